package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/uxprobe/uxprobe/agent"
	"github.com/uxprobe/uxprobe/agent/history"
	"github.com/uxprobe/uxprobe/agent/redact"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/runner"
	"github.com/uxprobe/uxprobe/agent/sessions"
	jsonexp "github.com/uxprobe/uxprobe/exporters/json"
	"github.com/uxprobe/uxprobe/exporters/junit"
	promexp "github.com/uxprobe/uxprobe/exporters/prometheus"
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
	baselines string
	// updateBaselines rewrites the baselines of the flows it runs.
	updateBaselines bool
	pushURL         string
	pushJob         string
	storage         storageFlags
	har             harFlag
	filmstrip       filmstripFlag
	vars            varsFlag
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
	fs.IntVar(&cf.parallel, "parallel", runtime.NumCPU(), "how many runs at once, each in its own tab; a run whose steps are done gives its place to the next while its last page's vitals are read")
	fs.StringVar(&cf.jsonFile, "json", "", "write all results as JSON to this file")
	fs.StringVar(&cf.junitFile, "junit", "", "write a JUnit XML report (one test case per flow and device) to this file")
	fs.StringVar(&cf.artifacts, "artifacts", "uxprobe-artifacts", "save screenshots (screenshot steps and the moment of each failure) under this directory, as <flow>/<device>/<name>.png")
	fs.StringVar(&cf.baselines, "baselines", defaultBaselinesDir, baselinesUsage)
	fs.BoolVar(&cf.updateBaselines, "update-baselines", false, "make every assert_screenshot's picture its baseline, rewriting those of the flows and devices it runs; the steps pass")
	fs.StringVar(&cf.pushURL, "push.url", "", "push the results' metrics to this Prometheus Pushgateway, grouped by flow")
	fs.StringVar(&cf.pushJob, "push.job", "uxprobe", "the job label of pushed metrics")
	fs.Var(cf.vars, "var", "override a flow variable, name=value (repeatable)")
	fs.Var(&cf.har, "artifacts.har", harUsage)
	fs.Var(&cf.filmstrip, "artifacts.filmstrip", filmstripUsage)
	cf.storage.register(fs, "",
		"also record the runs in the run history in this directory, the --storage.path of a `uxprobe run`, so that CI runs and scheduled runs share one history (SQLite allows both at once); empty records none")
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
	axeInfo, warning := cf.browser.axe.find(env)
	if warning != "" {
		fmt.Fprintln(env.stderr, "uxprobe check: warning:", warning)
	}
	flows, invalid, err := loadAll(env, fs.Args(), cf.vars, axeInfo)
	if err != nil {
		fmt.Fprintln(env.stderr, "uxprobe check:", err)
		return exitUsage
	}
	if invalid {
		fmt.Fprintln(env.stderr, "uxprobe check: fix the flow files above; nothing was run")
		return exitUsage
	}
	jobs, err := agent.SelectJobs(flows, cf.flows, cf.devices)
	if err != nil {
		fmt.Fprintln(env.stderr, "uxprobe check:", err)
		return exitUsage
	}
	if cf.artifacts != "" {
		if abs, err := filepath.Abs(cf.artifacts); err == nil {
			cf.artifacts = abs
		}
	}

	// A history that cannot be opened does not stop the check, as in the
	// agent; it is reported, and the exit code says so.
	hist, storageErr := cf.storage.open(ctx, nil, slog.New(slog.DiscardHandler))
	if storageErr != nil {
		fmt.Fprintln(env.stderr, "uxprobe check: --storage.path: running without the run history:", storageErr)
	}
	if hist != nil {
		defer func() {
			// The agent prunes in the background; a history that only CI
			// writes is pruned here.
			if _, err := hist.Prune(context.Background()); err != nil {
				fmt.Fprintln(env.stderr, "uxprobe check: pruning the run history:", err)
			}
			if err := hist.Close(); err != nil {
				fmt.Fprintln(env.stderr, "uxprobe check: closing the run history:", err)
			}
		}()
	}

	// One warm tab more than runs at once: the next run's tab is then
	// opened a whole run ahead, not only during the last one's final read,
	// which is shorter than Chrome takes to open a tab.
	b, err := cf.browser.start(min(cf.parallel+1, len(jobs)), nil)
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
	// The runner's warnings (a screenshot that could not be written, a
	// Chrome restart) go to stderr, apart from the table.
	var secrets redact.Flows
	secrets.Set(flows)
	warnings := redact.Logger(slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), secrets.Mask)
	r := &runner.Runner{Browser: b, ArtifactsDir: cf.artifacts, Progress: prog.step, Logger: warnings, HAR: cf.har.Mode(), Filmstrip: cf.filmstrip.Mode(), VitalsSettle: cf.vitals.runnerSettle(),
		Baselines: cf.baselines, UpdateBaselines: cf.updateBaselines}
	// The reports are agent exporters, as in `uxprobe run`; their errors
	// are printed after the table.
	// Flows with a session start logged in: the login flows' sessions
	// are kept for the rest of the check.
	results, exportErr := agent.RunOnce(ctx, sessions.New(r), jobs, agent.OnceOptions{
		Parallel:  cf.parallel,
		Exporters: cf.exporters(hist),
		Done:      prog.done,
		Logger:    slog.New(slog.DiscardHandler),
		// No more warm tabs than runs to come: opening one as the last
		// run ends would start a renderer for nothing.
		Started: b.RunsLeft,
	})
	prog.finish()

	printTable(env.stdout, results)
	printParity(env.stdout, results)
	code := exitOK
	for _, res := range results {
		if !res.Success {
			code = exitFailed
		}
	}
	if exportErr != nil {
		fmt.Fprintln(env.stderr, "uxprobe check:", exportErr)
		return exitRuntime
	}
	if storageErr != nil {
		return exitRuntime
	}
	return code
}

// exporters are the reports the flags ask for, in the order they are
// written.
func (cf *checkFlags) exporters(hist *history.Store) []agent.Exporter {
	var exps []agent.Exporter
	if hist != nil {
		// First: it gives each result its id, which the reports then carry.
		exps = append(exps, hist)
	}
	if cf.jsonFile != "" {
		exps = append(exps, jsonexp.New(cf.jsonFile))
	}
	if cf.junitFile != "" {
		exps = append(exps, junit.NewFileWriter(cf.junitFile))
	}
	if cf.pushURL != "" {
		exps = append(exps, promexp.NewPusher(cf.pushURL, cf.pushJob))
	}
	return exps
}

// printTable ends a check with one line per flow and device.
func printTable(w io.Writer, results []*result.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FLOW\tDEVICE\tRESULT\tTASK TIME\tSLOWEST LCP\tJS ERRORS\tFAILED REQUESTS\tERROR")
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2fs\t%s\t%d\t%d\t%s\n", r.Flow, r.Device, state, r.DurationSeconds, lcp, len(r.ConsoleErrors), len(r.FailedRequests), msg)
	}
	tw.Flush()
	printNotes(w, results)
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

// baselinesUsage is --baselines', the same on run, demo and check.
const baselinesUsage = "directory of assert_screenshot's baselines, as <flow>/<device>/<name>.png, relative to the working directory unless absolute; a missing baseline is recorded there from the run (review them in git)"
