package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/uxprobe/uxprobe/agent"
	"github.com/uxprobe/uxprobe/agent/history"
	"github.com/uxprobe/uxprobe/agent/runner"
	"github.com/uxprobe/uxprobe/agent/statuspage"
)

// Defaults of the storage flags.
const (
	defaultStoragePath = "uxprobe-data"
	defaultWebRefresh  = 30 * time.Second
)

// storageFlags are the run history's flags, shared by run, demo and check.
type storageFlags struct {
	path      string
	retention model.Duration
	size      byteSize
}

func (f *storageFlags) register(fs *flag.FlagSet, path, pathUsage string) {
	f.retention = model.Duration(history.DefaultRetention)
	f.size = history.DefaultRetentionSize
	fs.StringVar(&f.path, "storage.path", path, pathUsage)
	fs.Var(&f.retention, "storage.retention",
		"drop runs older than this, as Prometheus' durations: 15d, 12h, 1w; 0 keeps them forever; the last failed and the last successful run of each flow and device are always kept")
	fs.Var(&f.size, "storage.retention.size",
		"bound of the history's results and artifacts, oldest runs dropped first: 512MB, 1GB (powers of 1024, as Prometheus); 0 sets no bound")
}

// open opens the history, or returns nil when --storage.path is empty. Its
// errors are counted by health, which may be nil (check).
func (f *storageFlags) open(ctx context.Context, health *history.Health, log *slog.Logger) (*history.Store, error) {
	if f.path == "" {
		return nil, nil
	}
	opts := history.Options{
		Retention:     time.Duration(f.retention),
		RetentionSize: int64(f.size),
		Logger:        log,
	}
	// The flags' 0 means no bound; the store's 0 means its default.
	if opts.Retention == 0 {
		opts.Retention = -1
	}
	if opts.RetentionSize == 0 {
		opts.RetentionSize = -1
	}
	if health != nil {
		opts.OnError, opts.OnWrite = health.Failed, health.Succeeded
	}
	s, err := history.Open(ctx, f.path, opts)
	if err != nil {
		if health != nil {
			health.Failed("open", err)
		}
		return nil, err
	}
	return s, nil
}

// byteSize is a flag of bytes with Prometheus' units (B, KB, MB, GB, TB,
// powers of 1024).
type byteSize int64

var byteUnits = []struct {
	suffix string
	n      int64
}{{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}}

func (b *byteSize) Set(s string) error {
	t := strings.ToUpper(strings.TrimSpace(s))
	if t == "0" {
		*b = 0
		return nil
	}
	for _, u := range byteUnits {
		num, ok := strings.CutSuffix(t, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || n < 0 || n*float64(u.n) > 1<<62 {
			break
		}
		*b = byteSize(n * float64(u.n))
		return nil
	}
	return errors.New("want a size such as 512MB or 1GB, or 0")
}

func (b *byteSize) String() string {
	if b == nil || *b == 0 {
		return "0"
	}
	for _, u := range byteUnits {
		if int64(*b)%u.n == 0 {
			return fmt.Sprintf("%d%s", int64(*b)/u.n, u.suffix)
		}
	}
	return fmt.Sprintf("%dB", int64(*b))
}

// historyPages is the status page and the history API over the store, with
// run-now through the agent; nil without --storage.path, which keeps the
// index page. A store that failed to open still gets the pages: they say
// why there is no history.
func historyPages(a *agent.Agent, hist *history.Store, health *history.Health, f *storageFlags, refresh time.Duration, log *slog.Logger) http.Handler {
	if f.path == "" {
		return nil
	}
	opts := statuspage.Options{
		Flows:   a.Flows,
		RunNow:  runNow(a),
		Refresh: refresh,
		Logger:  log,
		StoreError: func() error {
			err, _ := health.Last()
			return err
		},
	}
	if refresh == 0 {
		opts.Refresh = -1 // the flag's 0 is never; the page's 0 its default
	}
	if hist != nil {
		opts.Store = hist
	}
	return statuspage.New(opts)
}

// runNow maps the agent's errors onto the status codes of the API.
func runNow(a *agent.Agent) func(flow, device string) ([]string, error) {
	return func(flow, device string) ([]string, error) {
		ids, err := a.RunNow(flow, device)
		switch {
		case errors.Is(err, agent.ErrUnknownFlow):
			return nil, fmt.Errorf("%w: %v", statuspage.ErrUnknownFlow, err)
		case errors.Is(err, agent.ErrFlowRunning):
			return nil, fmt.Errorf("%w: %v", statuspage.ErrRunning, err)
		}
		return ids, err
	}
}

// storageNote is /-/ready's line about the history. The agent stays ready
// when the store fails: readiness takes a pod out of its Service, and with
// it the metrics of runs that still work.
func storageNote(f *storageFlags, health *history.Health) func() string {
	return func() string {
		if f.path == "" {
			return ""
		}
		err, at := health.Last()
		if err == nil {
			return ""
		}
		return fmt.Sprintf("Run history failing since %s (runs and metrics go on; see uxprobe_storage_errors_total): %v", at.UTC().Format(time.RFC3339), err)
	}
}

// harFlag is --artifacts.har.
type harFlag struct{ mode runner.HARMode }

const harUsage = "when to save a run's requests as a HAR 1.2 file (network.har beside its screenshots, and in the run history): on-failure, always or never; timings, statuses and sizes, no response bodies, secrets masked; it opens in Chrome DevTools' network panel"

func (h *harFlag) Set(s string) error {
	m, err := runner.ParseHARMode(s)
	if err != nil {
		return err
	}
	h.mode = m
	return nil
}

func (h *harFlag) String() string {
	if h == nil || h.mode == "" {
		return string(runner.HAROnFailure)
	}
	return string(h.mode)
}

// Mode is the flag's value, on-failure unless set.
func (h *harFlag) Mode() runner.HARMode {
	if h.mode == "" {
		return runner.HAROnFailure
	}
	return h.mode
}
