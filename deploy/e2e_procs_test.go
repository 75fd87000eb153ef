package deploy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildUxprobe builds the agent of this checkout into the test's temporary
// directory and returns the binary's path. Each test that runs the agent
// builds its own copy: after the first build the Go build cache makes it a
// link step of a few seconds, and a binary shared between tests would need a
// TestMain to be removed again.
func buildUxprobe(t *testing.T) string {
	t.Helper()
	bin, err := buildUxprobeIn(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// buildUxprobeIn builds uxprobe into dir. It returns an error rather than
// failing a test so that a sync.Once can call it on behalf of several tests.
func buildUxprobeIn(dir string) (string, error) {
	// `go test` puts $GOROOT/bin first on the PATH of test binaries, so
	// this is the toolchain that runs the tests.
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("no go command to build uxprobe with: %v", err)
	}
	bin := filepath.Join(dir, "uxprobe")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./cmd/uxprobe")
	cmd.Dir = ".." // the module root; tests run in deploy/
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/uxprobe: %v\n%s", err, out)
	}
	return bin, nil
}

// requireBinary returns the path of a program the test runs. A missing one
// fails the test rather than skipping it: a skipped end-to-end test looks
// green in CI.
func requireBinary(t *testing.T, path, debianPackage string) string {
	t.Helper()
	if _, err := exec.LookPath(path); err != nil {
		t.Fatalf("%s is not installed (%v); `make test` installs it with apt-get (Debian package %s)", path, err, debianPackage)
	}
	return path
}

// freeAddress returns a 127.0.0.1 address with a port that was free a moment
// ago, for programs that cannot report the port they picked themselves.
// Another process could take the port in between; on a test machine that is
// rare enough to accept.
func freeAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// proc is a program the end-to-end test started, with its output in a log
// file so that a failing test can show what each program said.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the program has exited
	err     error         // Wait's result, set before done is closed

	stopOnce  sync.Once
	leftovers []string // processes of its group still alive after it exited
}

// startProc starts a program in a process group of its own, so that Chrome
// and any other child goes with it when it has to be killed, and so that
// stop can tell whether it left children behind. The program is stopped when
// the test ends, if the test did not stop it before.
func startProc(t *testing.T, dir, name, path string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(20 * time.Second) })
	return p
}

// exited reports whether the program has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, as a service manager would, and kills the whole
// process group if the program is still running after grace. It returns the
// program's exit error (nil for exit status 0); only the first call stops,
// later ones return the same result.
func (p *proc) stop(grace time.Duration) error {
	p.stopOnce.Do(func() {
		pgid := p.cmd.Process.Pid // the leader of its own group, see startProc
		if !p.exited() {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
		// Children that a program ends themselves may take a moment to go
		// after it; whatever is still alive then was left behind.
		deadline := time.Now().Add(5 * time.Second)
		for {
			p.leftovers = groupMembers(pgid)
			if len(p.leftovers) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if len(p.leftovers) > 0 {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
	})
	return p.err
}

// groupMembers lists the live processes of a process group as "pid (name)",
// from /proc. Zombies do not count: they are dead, and whether they are
// reaped depends on this machine's init, not on the program under test.
func groupMembers(pgid int) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var members []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // it ended while we looked
		}
		// pid (comm) state ppid pgrp ...; comm may contain spaces and
		// parentheses, so the fields start after the last ')'.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 3 || fields[0] == "Z" || fields[2] != strconv.Itoa(pgid) {
			continue
		}
		name := string(stat[bytes.IndexByte(stat, '(')+1 : i])
		members = append(members, fmt.Sprintf("%s (%s)", e.Name(), name))
	}
	return members
}

// exitCode describes how a program ended, for messages.
func exitCode(err error) string {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "exit status 0"
	case errors.As(err, &ee):
		return ee.String()
	default:
		return err.Error()
	}
}

// logTail returns the end of a program's log: enough to see why it failed
// without flooding the test output.
func (p *proc) logTail(limit int) string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	if len(data) > limit {
		data = append([]byte("[...]"), data[len(data)-limit:]...)
	}
	return string(data)
}
