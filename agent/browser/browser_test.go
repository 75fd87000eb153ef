package browser

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "my-chrome")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, env string
		want            string
		wantErr         string
	}{
		{name: "flag wins", path: fake, env: "/nonexistent", want: fake},
		{name: "environment", env: fake, want: fake},
		{name: "flag that does not exist", path: filepath.Join(dir, "nope"), wantErr: "cannot be run"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvPath, tc.env)
			got, err := Find(tc.path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Find = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestFindNothingSaysHowToInstall(t *testing.T) {
	saved := directBinaries
	directBinaries = nil
	t.Cleanup(func() { directBinaries = saved })
	t.Setenv(EnvPath, "")
	t.Setenv("PATH", t.TempDir())
	_, err := Find("")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "apt-get install -y chromium") {
		t.Fatalf("err = %v, want ErrNotFound with the install command", err)
	}
}

// profileDir returns the --user-data-dir of a running Chrome; only this
// test's own browsers are looked at, as other packages' tests run Chrome
// at the same time.
func profileDir(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		t.Fatal(err)
	}
	for _, arg := range strings.Split(string(data), "\x00") {
		if dir, ok := strings.CutPrefix(arg, "--user-data-dir="); ok {
			return dir
		}
	}
	t.Fatalf("Chrome %d has no --user-data-dir", pid)
	return ""
}

func TestRestartAfterKillAndCleanClose(t *testing.T) {
	restarts := 0
	b, err := Start(Options{NoSandbox: os.Geteuid() == 0, WarmTabs: 1, OnRestart: func() { restarts++ }})
	if err != nil {
		t.Fatal(err)
	}
	pid, gen := b.PID(), b.Generation()
	profiles := []string{profileDir(t, pid)}
	if !b.Alive(context.Background()) {
		t.Fatal("a new browser is not alive")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	// The health probe may replace the killed Chrome before Alive sees it
	// dead; either way the Restart below must then be a no-op.
	for b.Alive(context.Background()) && b.Generation() == gen {
		if time.Now().After(deadline) {
			t.Fatal("a killed browser still answers")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := b.Restart(gen); err != nil {
		t.Fatal(err)
	}
	if err := b.Restart(gen); err != nil { // a second caller of the same generation: no-op
		t.Fatal(err)
	}
	if restarts != 1 || b.Generation() != gen+1 || b.PID() == pid {
		t.Fatalf("restarts=%d generation=%d pid=%d; want one restart to a new process", restarts, b.Generation(), b.PID())
	}
	profiles = append(profiles, profileDir(t, b.PID()))
	tab, err := b.NewTab(context.Background())
	if err != nil {
		t.Fatalf("no tab after the restart: %v", err)
	}
	b.Release(tab)
	newPID := b.PID()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(newPID, 0); err == nil {
		// The allocator waits for the process, so it must be gone.
		t.Errorf("Chrome %d still runs after Close", newPID)
	}
	if _, err := b.NewTab(context.Background()); err == nil {
		t.Error("a closed browser still opens tabs")
	}
	// Both Chrome processes' profiles, the killed one's too, must be gone:
	// an agent that restarts Chrome for months must not fill the disk.
	for _, dir := range profiles {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("profile %s outlived Close (%v)", dir, err)
		}
	}
}

// TestWarmTabsArePrepared: a warm tab is handed out with the preparation
// of SetPrepare done on that very tab, and one whose preparation failed is
// handed out unprepared, for the caller to do the work itself.
func TestWarmTabsArePrepared(t *testing.T) {
	b, err := Start(Options{NoSandbox: os.Geteuid() == 0, WarmTabs: 1})
	if err != nil {
		t.Fatal(err)
	}
	var tabs []*Tab
	defer func() {
		for _, tab := range tabs {
			b.Release(tab)
		}
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	}()
	take := func() *Tab {
		t.Helper()
		if len(tabs) > 0 {
			b.Release(tabs[len(tabs)-1]) // which opens the next warm tab
			tabs = tabs[:len(tabs)-1]
		}
		b.Settle() // the warm tab is ready
		tab, err := b.NewTab(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		tabs = append(tabs, tab)
		return tab
	}
	b.SetPrepare(func(ctx context.Context, tab *Tab) error {
		_, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[string](`window.prepared = 'yes'`))
		return err
	})
	take() // the warm tab of Start, opened before SetPrepare
	tab := take()
	got, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[string](`String(window.prepared)`))
	if err != nil {
		t.Fatal(err)
	}
	if !tab.Prepared || got != "yes" {
		t.Errorf("Prepared %v, window.prepared %q: want the tab prepared before it was handed out", tab.Prepared, got)
	}
	b.SetPrepare(func(ctx context.Context, tab *Tab) error { return errors.New("no") })
	take() // warmed while the first preparation was set
	if tab := take(); tab.Prepared {
		t.Error("a tab whose preparation failed is handed out as prepared")
	}
}

// slowlyPreparing starts a browser with one warm tab whose preparation
// takes 300 ms, slow enough that a tab asked for next comes while the
// next warm tab is opening; Start's own warm tab, opened before the
// preparation was set, is ready.
func slowlyPreparing(t *testing.T) *Browser {
	t.Helper()
	b, err := Start(Options{NoSandbox: os.Geteuid() == 0, WarmTabs: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	b.SetPrepare(func(ctx context.Context, tab *Tab) error {
		time.Sleep(300 * time.Millisecond)
		return nil
	})
	b.Settle()
	return b
}

// TestNextWarmTabOpensOnRelease: taking a warm tab does not open the next
// one (its opening would take the CPU from the run); releasing it does,
// and a tab asked for while the next one is being opened is that one,
// prepared, not a second one opened on demand.
func TestNextWarmTabOpensOnRelease(t *testing.T) {
	b := slowlyPreparing(t)
	first, err := b.NewTab(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b.Settle()
	if opening, spares := warmTabs(b); opening != 0 || spares != 0 {
		t.Fatalf("%d tabs opening and %d warm while the first is in use, want none", opening, spares)
	}
	b.Release(first)
	second, err := b.NewTab(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release(second)
	if !second.Prepared {
		t.Error("the tab asked for while a warm one was opening is not prepared: a second one was opened on demand")
	}
}

// TestTabsAskedForTogether: two callers asking for a tab while one warm
// tab is being opened both get one (one the warm tab, the other a new
// one), neither waits out its deadline; and Settle may run while tabs are
// taken and released (under -race, a WaitGroup's Add beside its Wait was a
// race).
func TestTabsAskedForTogether(t *testing.T) {
	b := slowlyPreparing(t)
	first, err := b.NewTab(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b.Release(first) // opens the next warm tab, slowly

	stopSettling := make(chan struct{})
	settled := make(chan struct{})
	go func() {
		defer close(settled)
		for {
			select {
			case <-stopSettling:
				return
			default:
				b.Settle()
				time.Sleep(time.Millisecond)
			}
		}
	}()
	defer func() { close(stopSettling); <-settled }()

	type got struct {
		tab *Tab
		err error
	}
	results := make(chan got, 2)
	for range 2 {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			tab, err := b.NewTab(ctx)
			results <- got{tab, err}
		}()
	}
	prepared := 0
	for range 2 {
		r := <-results
		if r.err != nil {
			t.Fatalf("a caller got no tab: %v", r.err)
		}
		if r.tab.Prepared {
			prepared++
		}
		b.Release(r.tab)
	}
	if prepared != 1 {
		t.Errorf("%d of the two tabs were the warm one, want 1", prepared)
	}
}

// TestNoWarmTabAfterTheLastRun: once no run is left to take a tab,
// neither the last run's end (Refill) nor its tab's release opens another:
// Chrome would start a renderer for a run that never comes.
func TestNoWarmTabAfterTheLastRun(t *testing.T) {
	b := slowlyPreparing(t)
	last, err := b.NewTab(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b.RunsLeft(0)
	b.Refill()
	b.Release(last)
	b.Settle()
	if opening, spares := warmTabs(b); opening != 0 || spares != 0 {
		t.Errorf("%d tabs opening and %d warm after the last run, want none", opening, spares)
	}
	// A retry after it still gets a tab, opened when asked for.
	again, err := b.NewTab(context.Background())
	if err != nil {
		t.Fatalf("a tab asked for after the last run: %v", err)
	}
	b.Release(again)
}

// warmTabs is how many warm tabs are being opened and how many are ready.
func warmTabs(b *Browser) (opening, ready int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.warming, len(b.spares)
}
