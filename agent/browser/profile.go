package browser

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// profilePrefix starts the name of every Chrome profile directory uxprobe
// makes: uxprobe-chrome-<pid>-<start>-<random>, where pid and start (the
// process's start time in clock ticks since boot, empty where /proc is
// missing) say which process owns it. chromedp's own directories
// ("chromedp-runner…") are left alone: another program may use them.
const profilePrefix = "uxprobe-chrome-"

// newProfile makes a profile directory for one Chrome process in dir
// (os.TempDir() when empty).
func newProfile(dir string) (string, error) {
	return os.MkdirTemp(cmpDir(dir), fmt.Sprintf("%s%d-%s-", profilePrefix, os.Getpid(), processStart(os.Getpid())))
}

func cmpDir(dir string) string {
	if dir == "" {
		return os.TempDir()
	}
	return dir
}

// removeProfile removes a profile once its Chrome is gone. Chrome's
// helpers may still write for a moment after the browser exits, so a
// directory that is not empty yet is tried again, for a bound.
func removeProfile(path string) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := os.RemoveAll(path)
		if err == nil || time.Now().After(deadline) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// removeStaleProfiles removes the profile directories in dir that a
// process of ours left behind when it was killed (SIGKILL, an OOM kill, a
// power cut): those whose owning process is gone. It returns how many it
// removed. Directories of a live uxprobe, of other programs, and anything
// that is not ours by name stay.
func removeStaleProfiles(dir string) int {
	dir = cmpDir(dir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	removed := 0
	for _, e := range entries {
		pid, start, ok := parseProfileName(e.Name())
		if !ok || !e.IsDir() || processAlive(pid, start) {
			continue
		}
		if os.RemoveAll(filepath.Join(dir, e.Name())) == nil {
			removed++
		}
	}
	return removed
}

// parseProfileName reads the owner out of a profile directory's name.
func parseProfileName(name string) (pid int, start string, ok bool) {
	rest, ok := strings.CutPrefix(name, profilePrefix)
	if !ok {
		return 0, "", false
	}
	parts := strings.SplitN(rest, "-", 3)
	if len(parts) != 3 {
		return 0, "", false
	}
	pid, err := strconv.Atoi(parts[0])
	if err != nil || pid <= 0 {
		return 0, "", false
	}
	if parts[1] != "" {
		if _, err := strconv.ParseUint(parts[1], 10, 64); err != nil {
			return 0, "", false
		}
	}
	return pid, parts[1], true
}

// processAlive reports whether the process that made a profile still
// runs: its pid exists and, where the start time is known, it started
// when the owner did (a pid reused by another process does not count).
func processAlive(pid int, start string) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	if start != "" {
		if now := processStart(pid); now != "" && now != start {
			return false
		}
	}
	return true
}

// processStart is the start time of a process in clock ticks since boot,
// field 22 of /proc/<pid>/stat; "" where it cannot be read.
func processStart(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count the fields after its closing one.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return ""
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 20 {
		return ""
	}
	return fields[19] // field 22: field 3 is fields[0]
}
