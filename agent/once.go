package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

// Job is one run of a flow on one of its devices.
type Job struct {
	Flow   *scenarios.Flow
	Device scenarios.Device
}

// SelectJobs expands flows × devices, keeping those the filters name: flows
// by name, devices by name or class (Device.Matches). A filter that matches
// nothing is an error: a typo must not turn a CI check into a silent pass.
func SelectJobs(flows []*scenarios.Flow, flowNames, deviceNames []string) ([]Job, error) {
	var jobs []Job
	usedFlow := map[string]bool{}
	usedDevice := map[string]bool{}
	for _, f := range flows {
		if len(flowNames) > 0 && !slices.Contains(flowNames, f.Name) {
			continue
		}
		usedFlow[f.Name] = true
		for _, d := range f.Devices {
			if len(deviceNames) > 0 {
				match := ""
				for _, n := range deviceNames {
					if d.Matches(n) {
						match = n
					}
				}
				if match == "" {
					continue
				}
				usedDevice[match] = true
			}
			jobs = append(jobs, Job{f, d})
		}
	}
	for _, n := range flowNames {
		if !usedFlow[n] {
			return nil, fmt.Errorf("--flow %q matches no loaded flow", n)
		}
	}
	for _, n := range deviceNames {
		if !usedDevice[n] {
			return nil, fmt.Errorf("--device %q matches no device of the selected flows", n)
		}
	}
	if len(jobs) == 0 {
		return nil, errors.New("no flows to run")
	}
	return jobs, nil
}

// OnceOptions configure RunOnce.
type OnceOptions struct {
	// Parallel is the number of runs at the same time; 0 means one.
	Parallel int
	// Exporters are given every result, in the order of the jobs.
	Exporters []Exporter
	// Done, if set, hears of each run as it ends, in the order runs end,
	// for progress output.
	Done func(*result.Result)
	// Logger receives export errors; nil discards them.
	Logger *slog.Logger
	// Started, if set, is told as each run starts how many jobs are left
	// to start (check keeps no more warm tabs than runs to come).
	Started func(left int)
}

// RunOnce runs every job now, with at most Parallel at once under the same
// concurrency limit as the scheduler, and returns the results in the jobs'
// order, so that reports are stable. Each result goes to the exporters as
// soon as it and every job before it are done, so that a report file holds
// what finished even if the check is interrupted. The error joins the first
// error of each exporter that failed; the runs still all happen.
func RunOnce(ctx context.Context, r Runner, jobs []Job, opts OnceOptions) ([]*result.Result, error) {
	if opts.Parallel < 1 {
		opts.Parallel = 1
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		return nil, err
	}
	exps := nameExporters(opts.Exporters, m)
	// Exports run after the runs' context may have ended (Ctrl-C cancels the
	// runs), and the reports of the cancelled runs are still wanted.
	exportCtx := context.WithoutCancel(ctx)

	results := make([]*result.Result, len(jobs))
	failed := map[string]error{} // the first error of each exporter
	var mu sync.Mutex            // guards next and failed, and serializes exports
	next := 0
	finished := func(i int, res *result.Result) {
		mu.Lock()
		defer mu.Unlock()
		results[i] = res
		for ; next < len(jobs) && results[next] != nil; next++ {
			for _, e := range exps {
				ectx, cancel := context.WithTimeout(exportCtx, exportTimeout)
				err := exportAll(ectx, []namedExporter{e}, results[next], log)
				cancel()
				if err != nil && failed[e.name] == nil {
					failed[e.name] = err
				}
			}
		}
	}

	// Login flows (provides_session) run before the others: the flows that
	// use their sessions then start with the session these runs saved,
	// rather than logging in for themselves and the login flow's own run
	// logging in once more after them.
	sl := newSlots(opts.Parallel)
	var started atomic.Int64
	for _, logins := range []bool{true, false} {
		var wg sync.WaitGroup
		for i, j := range jobs {
			if j.Flow.ProvidesSession != logins {
				continue
			}
			wg.Go(func() {
				// RunOnce waits for every slot: a cancelled ctx makes each
				// run end at once as cancelled, so that every job has a
				// result.
				sl.acquire(nil, nil)
				if n := started.Add(1); opts.Started != nil {
					opts.Started(len(jobs) - int(n))
				}
				runCtx, free := sl.hold(ctx)
				res := runSafely(runCtx, r, j.Flow, j.Device, log)
				free()
				if opts.Done != nil {
					opts.Done(res)
				}
				finished(i, res)
			})
		}
		wg.Wait()
	}
	var errs []error
	for _, e := range exps {
		if err := failed[e.name]; err != nil {
			errs = append(errs, err)
		}
	}
	return results, errors.Join(errs...)
}
