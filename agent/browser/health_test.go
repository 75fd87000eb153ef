package browser

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFrozenChromeIsReplacedByTheProbe freezes an idle Chrome (SIGSTOP):
// with no run to notice, the health probe must replace it, say why, and
// leave neither the frozen process nor its profile behind.
func TestFrozenChromeIsReplacedByTheProbe(t *testing.T) {
	b, err := Start(Options{NoSandbox: os.Geteuid() == 0, HealthInterval: 100 * time.Millisecond, HealthTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	pid, gen := b.PID(), b.Generation()
	profile := profileDir(t, pid)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
	deadline := time.Now().Add(30 * time.Second)
	for b.Generation() == gen {
		if time.Now().After(deadline) {
			t.Fatal("the frozen Chrome was not replaced")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if why := b.LostReason(gen); why != "Chrome did not answer a health check within 1s" {
		t.Errorf("LostReason = %q", why)
	}
	newPID := b.PID()
	if newPID == pid || syscall.Kill(pid, 0) == nil && !zombie(pid) {
		t.Errorf("the frozen Chrome %d is still there (new pid %d)", pid, newPID)
	}
	if _, err := b.NewTab(t.Context()); err != nil {
		t.Fatalf("no tab from the new Chrome: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(profile); !os.IsNotExist(err) {
		t.Errorf("the frozen Chrome's profile %s outlived Close (%v)", profile, err)
	}
}

// TestCloseKillsAFrozenChrome: closing a Chrome that answers nothing must
// not wait on it; the process and its profile are gone afterwards.
func TestCloseKillsAFrozenChrome(t *testing.T) {
	b, err := Start(Options{NoSandbox: os.Geteuid() == 0, WarmTabs: 1, HealthInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	pid := b.PID()
	profile := profileDir(t, pid)
	tab, err := b.NewTab(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
	b.Release(tab) // its close would wait on the frozen Chrome
	_ = b.Close()  // the error says it was killed; what counts is below
	if syscall.Kill(pid, 0) == nil && !zombie(pid) {
		t.Errorf("Chrome %d still runs after Close", pid)
	}
	if _, err := os.Stat(profile); !os.IsNotExist(err) {
		t.Errorf("profile %s outlived Close (%v)", profile, err)
	}
}

// zombie reports whether pid has exited and waits only to be reaped.
func zombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}
