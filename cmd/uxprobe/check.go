package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/runner"
	"github.com/uxprobe/uxprobe/exporters/junit"
	"github.com/uxprobe/uxprobe/scenarios"
)

type checkFlags struct {
	browser   browserFlags
	vitals    vitalsFlags
	devices   listFlag
	flows     listFlag
	parallel  int
	jsonFile  string
	junitFile string
	artifacts string
	pushURL   string
	pushJob   string
	vars      varsFlag
}

func runCheck(ctx context.Context, env *environment, args []string) int {
	fs := newFlagSet(env, "check", "PATH...",
		"Runs every flow of the given files and directories once, now, on each of its devices, and\n"+
			"exits 0 if all succeeded, 1 if any failed, 2 on usage or validation errors, 3 if Chrome\n"+
			"cannot be started. Made for CI: --junit and --json write reports.")
	var cf checkFlags
	cf.vars = varsFlag{}
	cf.browser.register(fs)
	cf.vitals.register(fs)
	fs.Var(&cf.devices, "device", "run only these devices: classes (desktop, mobile, tablet) or device names; comma-separated or repeated")
	fs.Var(&cf.flows, "flow", "run only the flows with these names; comma-separated or repeated")
	fs.IntVar(&cf.parallel, "parallel", runtime.NumCPU(), "how many runs at once, each in its own tab")
	fs.StringVar(&cf.jsonFile, "json", "", "write all results as JSON to this file")
	fs.StringVar(&cf.junitFile, "junit", "", "write a JUnit XML report (one test case per flow and device) to this file")
	fs.StringVar(&cf.artifacts, "artifacts", "uxprobe-artifacts", "save screenshots (screenshot steps and the moment of each failure) under this directory, as <flow>/<device>/<name>.png")
	fs.StringVar(&cf.pushURL, "push.url", "", "push the results' metrics to this Prometheus Pushgateway, grouped by flow")
	fs.StringVar(&cf.pushJob, "push.job", "uxprobe", "the job label of pushed metrics")
	fs.Var(cf.vars, "var", "override a flow variable, name=value (repeatable)")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(env.stderr, "uxprobe check: give at least one flow file or directory")
		return exitUsage
	}
	if cf.parallel < 1 {
		fmt.Fprintln(env.stderr, "uxprobe check: --parallel must be at least 1")
		return exitUsage
	}
	flows, invalid, err := loadAll(env, fs.Args(), cf.vars)
	if err != nil {
		fmt.Fprintln(env.stderr, "uxprobe check:", err)
		return exitUsage
	}
	if invalid {
		fmt.Fprintln(env.stderr, "uxprobe check: fix the flow files above; nothing was run")
		return exitUsage
	}
	jobs, err := selectJobs(flows, cf.flows, cf.devices)
	if err != nil {
		fmt.Fprintln(env.stderr, "uxprobe check:", err)
		return exitUsage
	}
	if cf.artifacts != "" {
		if abs, err := filepath.Abs(cf.artifacts); err == nil {
			cf.artifacts = abs
		}
	}

	b, err := cf.browser.start(min(cf.parallel, len(jobs)), nil)
	if err != nil {
		fmt.Fprintln(env.stderr, "uxprobe check:", err)
		return exitRuntime
	}
	defer func() {
		if err := b.Close(); err != nil {
			fmt.Fprintln(env.stderr, "uxprobe check: closing Chrome:", err)
		}
	}()
	prog := newProgress(env.stdout, len(jobs))
	r := &runner.Runner{Browser: b, ArtifactsDir: cf.artifacts, Progress: prog.step, VitalsSettle: cf.vitals.runnerSettle()}
	results := runJobs(ctx, r, jobs, cf.parallel, prog.done)
	prog.finish()

	printTable(env.stdout, results)
	code := exitOK
	for _, res := range results {
		if !res.Success {
			code = exitFailed
		}
	}
	if err := writeReports(cf, results); err != nil {
		fmt.Fprintln(env.stderr, "uxprobe check:", err)
		return exitRuntime
	}
	if cf.pushURL != "" {
		if err := pushResults(ctx, cf.pushURL, cf.pushJob, results); err != nil {
			fmt.Fprintln(env.stderr, "uxprobe check: pushing metrics:", err)
			return exitRuntime
		}
	}
	return code
}

type job struct {
	flow   *scenarios.Flow
	device scenarios.Device
}

// selectJobs expands flows × devices, keeping those the filters name. A
// filter that matches nothing is a usage error: a typo must not turn a CI
// check into a silent pass.
func selectJobs(flows []*scenarios.Flow, flowNames, deviceNames []string) ([]job, error) {
	var jobs []job
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
					if strings.EqualFold(n, d.Name) || strings.EqualFold(n, string(d.Class)) {
						match = n
					}
				}
				if match == "" {
					continue
				}
				usedDevice[match] = true
			}
			jobs = append(jobs, job{f, d})
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
		return nil, fmt.Errorf("no flows to run")
	}
	return jobs, nil
}

// runJobs runs the jobs with at most parallel at once and returns the
// results in the jobs' order, so reports are stable.
func runJobs(ctx context.Context, r *runner.Runner, jobs []job, parallel int, done func(*result.Result)) []*result.Result {
	results := make([]*result.Result, len(jobs))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = r.Run(ctx, j.flow, j.device)
			done(results[i])
		}()
	}
	wg.Wait()
	return results
}

func writeReports(cf checkFlags, results []*result.Result) error {
	if cf.jsonFile != "" {
		data, err := json.MarshalIndent(results, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(cf.jsonFile, append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("writing --json: %w", err)
		}
	}
	if cf.junitFile != "" {
		f, err := os.Create(cf.junitFile)
		if err != nil {
			return fmt.Errorf("writing --junit: %w", err)
		}
		if err := junit.Write(f, results); err != nil {
			f.Close()
			return fmt.Errorf("writing --junit: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("writing --junit: %w", err)
		}
	}
	return nil
}

// printTable ends a check with one line per flow and device.
func printTable(w io.Writer, results []*result.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FLOW\tDEVICE\tRESULT\tTASK TIME\tSLOWEST LCP\tERROR")
	for _, r := range results {
		state := "ok"
		if !r.Success {
			state = "FAILED"
			if r.Outcome() == result.OutcomeError {
				state = "ERROR"
			}
		}
		lcp := "-"
		if v, ok := r.SlowestLCP(); ok {
			lcp = fmt.Sprintf("%.2fs", v)
		}
		msg := ""
		if r.Error != nil {
			msg = fmt.Sprintf("step %q: %s: %s", r.Error.Step, r.Error.Kind, r.Error.Message)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2fs\t%s\t%s\n", r.Flow, r.Device, state, r.DurationSeconds, lcp, msg)
	}
	tw.Flush()
}

// progress shows live progress on a terminal (flow, device, current step),
// and a line per finished run elsewhere, such as in CI logs.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	total    int
	finished int
	current  map[string]string // flow/device -> step
}

func newProgress(w io.Writer, total int) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{w: w, tty: tty, total: total, current: map[string]string{}}
}

func (p *progress) step(flow, device, step string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.current[flow+" on "+device] = step
	if p.tty {
		p.redraw()
	}
}

func (p *progress) redraw() {
	var parts []string
	for k, s := range p.current {
		parts = append(parts, k+": "+s)
	}
	slices.Sort(parts)
	line := fmt.Sprintf("[%d/%d] %s", p.finished, p.total, strings.Join(parts, " | "))
	if len(line) > 150 {
		line = line[:150]
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
}

func (p *progress) done(r *result.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished++
	delete(p.current, r.Flow+" on "+r.Device)
	state := "ok"
	if !r.Success {
		state = "FAILED at step " + fmt.Sprintf("%q", r.Error.Step)
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, "[%d/%d] %s on %s: %s (%s)\n", p.finished, p.total, r.Flow, r.Device, state, time.Duration(r.DurationSeconds*float64(time.Second)).Round(time.Millisecond))
	if p.tty {
		p.redraw()
	}
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K")
	}
}
