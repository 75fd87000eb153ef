package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// leakRunner logs, through the agent's logger, the secret a flow carries in
// its URL, as a runner does when it reports a path or an error.
type leakRunner struct {
	log  *slog.Logger
	runs chan string
}

func (r *leakRunner) Run(ctx context.Context, f *scenarios.Flow, d scenarios.Device) *result.Result {
	r.log.Warn("could not write an artifact", "flow", f.Name, "url", fmt.Sprint(f.Steps[0].Action), "err", fmt.Errorf("open %s: denied", fmt.Sprint(f.Steps[0].Action)))
	select {
	case r.runs <- f.Name:
	default:
	}
	return &result.Result{Flow: f.Name, Device: d.Name, Success: true, StartedAt: time.Now().UTC()}
}

// TestRunNeverLogsASecret: secrets read from the environment stay out of
// the agent's log and of the /-/reload answer: in the load error of an
// invalid file (at start, on SIGHUP and on POST /-/reload) and in what the
// runner logs for a valid flow, loaded at start or by a reload.
func TestRunNeverLogsASecret(t *testing.T) {
	const secret, secret2 = "EnvSecret-Zq81xY", "Reloaded-Secret-77"
	dir := t.TempDir()
	flow := func(name, env string) string {
		return fmt.Sprintf("name: %s\nschedule: '@every 1h'\ndevices: [desktop]\nvars: {token: '${env:%s}'}\nsecrets: [token]\nsteps:\n  - goto: 'http://127.0.0.1:1/?t=${token}'\n", name, env)
	}
	agentTestWrite(t, filepath.Join(dir, "good.yaml"), flow("good", "TOKEN"))
	agentTestWrite(t, filepath.Join(dir, "bad.yaml"), "name: bad\nsteps:\n  - click: '${env:TOKEN}[[['\n")

	lr := &leakRunner{runs: make(chan string, 10)}
	starter := func(_ *agentFlags, _ runnerHooks, log *slog.Logger) (agent.Runner, func() error, error) {
		lr.log = log
		return lr, func() error { return nil }, nil
	}
	addr := agentTestFreeAddr(t)
	stderr := &agentTestBuffer{}
	hup := make(chan os.Signal, 1)
	env := &environment{stdout: &agentTestBuffer{}, stderr: stderr, sighup: hup, startRunner: starter,
		lookupEnv: func(n string) (string, bool) {
			switch n {
			case "TOKEN":
				return secret, true
			case "TOKEN2":
				return secret2, true
			}
			return "", false
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, env, []string{"run", "--web.listen-address=" + addr, "--log.level=debug", "--log.format=json", "--schedule.splay=0", "--storage.path=" + t.TempDir(), dir})
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("the command did not stop")
		}
	}()
	p := &agentProc{url: "http://" + addr}
	waitUntil(t, "ready", func() bool {
		resp, err := http.Get(p.url + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	waitRun := func() {
		select {
		case <-lr.runs:
		case <-time.After(10 * time.Second):
			t.Fatal("no run")
		}
	}
	waitRun()

	code, body := p.get(t, http.MethodPost, "/-/reload")
	if code != http.StatusInternalServerError || !strings.Contains(body, "bad.yaml") {
		t.Fatalf("reload: HTTP %d %s", code, body)
	}
	// A reload that brings a new flow with a new secret.
	agentTestWrite(t, filepath.Join(dir, "new.yaml"), flow("new", "TOKEN2"))
	hup <- syscall.SIGHUP
	waitRun()

	logs := stderr.String()
	for _, frag := range []string{secret, secret[:8], secret2, secret2[:8]} {
		if strings.Contains(body, frag) {
			t.Errorf("the /-/reload answer shows %q: %s", frag, body)
		}
		if strings.Contains(logs, frag) {
			t.Errorf("the log shows %q:\n%s", frag, logs)
		}
	}
	if n := strings.Count(logs, "***"); n < 4 {
		t.Errorf("the log should show the masked secrets (%d ***):\n%s", n, logs)
	}
	if !bytes.Contains([]byte(logs), []byte("bad.yaml")) {
		t.Errorf("the invalid file is not reported:\n%s", logs)
	}
}
