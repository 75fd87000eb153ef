package browser

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// deadPID returns the pid of a process that ran and is gone.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// TestRemoveStaleProfiles: only our own profile directories whose owning
// process is gone are removed; a live owner's, a reused pid's owner-less
// one, other programs' directories and files stay or go as they must.
func TestRemoveStaleProfiles(t *testing.T) {
	dir := t.TempDir()
	self, start := os.Getpid(), processStart(os.Getpid())
	if start == "" {
		t.Skip("no /proc here")
	}
	dead := deadPID(t)
	tests := []struct {
		name     string
		dir      bool
		wantGone bool
	}{
		{fmt.Sprintf("%s%d-%s-123", profilePrefix, dead, "4242"), true, true},             // owner gone
		{fmt.Sprintf("%s%d--123", profilePrefix, dead), true, true},                       // owner gone, start unknown
		{fmt.Sprintf("%s%d-%s-123", profilePrefix, self, "1"), true, true},                // pid reused by a process that started later
		{fmt.Sprintf("%s%d-%s-123", profilePrefix, self, start), true, false},             // a live uxprobe's
		{fmt.Sprintf("%s%d--123", profilePrefix, self), true, false},                      // a live one, start unknown
		{fmt.Sprintf("%s%d-%s-123", profilePrefix, dead, "4242") + "-file", false, false}, // not a directory
		{"chromedp-runner12345", true, false},                                             // another program's
		{profilePrefix + "x-1-2", true, false},                                            // not our name
	}
	for _, tc := range tests {
		p := filepath.Join(dir, tc.name)
		var err error
		if tc.dir {
			err = os.MkdirAll(filepath.Join(p, "Default"), 0o755)
		} else {
			err = os.WriteFile(p, nil, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := removeStaleProfiles(dir); n != 3 {
		t.Errorf("removed %d, want 3", n)
	}
	for _, tc := range tests {
		_, err := os.Stat(filepath.Join(dir, tc.name))
		if gone := os.IsNotExist(err); gone != tc.wantGone {
			t.Errorf("%s: gone %v, want %v", tc.name, gone, tc.wantGone)
		}
	}
}

// TestProfileOfAKilledAgentIsRemovedAtStart: a process that started
// Chrome is killed with SIGKILL, which leaves Chrome's profile behind; the
// next Start removes it, and a Browser's own profile goes with Close.
func TestProfileOfAKilledAgentIsRemovedAtStart(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestProfileHelper$")
	cmd.Env = append(os.Environ(), "UXPROBE_PROFILE_HELPER="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "chrome-started") {
				ready <- true
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("the helper did not start Chrome")
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the helper did not start Chrome within 60s")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	left := ourProfiles(t, dir)
	if len(left) != 1 {
		t.Fatalf("after SIGKILL, profiles %v, want the killed one's", left)
	}
	// Chrome dies with its parent (Pdeathsig), but give it a moment.
	time.Sleep(200 * time.Millisecond)

	b, err := Start(Options{NoSandbox: os.Geteuid() == 0, ProfileDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	now := ourProfiles(t, dir)
	if len(now) != 1 || now[0] == left[0] {
		t.Errorf("after Start, profiles %v, want only the new Chrome's (not %s)", now, left[0])
	}
	if got := profileDir(t, b.PID()); filepath.Base(got) != now[0] {
		t.Errorf("Chrome runs with profile %s, want %s", got, now[0])
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if after := ourProfiles(t, dir); len(after) != 0 {
		t.Errorf("after Close, profiles %v", after)
	}
}

// TestProfileHelper is the process TestProfileOfAKilledAgentIsRemovedAtStart
// kills: it starts Chrome, says so, and waits.
func TestProfileHelper(t *testing.T) {
	dir := os.Getenv("UXPROBE_PROFILE_HELPER")
	if dir == "" {
		t.Skip("run by TestProfileOfAKilledAgentIsRemovedAtStart")
	}
	if _, err := Start(Options{NoSandbox: os.Geteuid() == 0, ProfileDir: dir}); err != nil {
		t.Fatal(err)
	}
	fmt.Println("chrome-started")
	time.Sleep(time.Minute)
}

func ourProfiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), profilePrefix) {
			out = append(out, e.Name())
		}
	}
	return out
}
