package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/runner"
	"github.com/uxprobe/uxprobe/scenarios"
)

// browserFlags are the flags of every command that starts Chrome.
type browserFlags struct {
	path      string
	noSandbox bool
	axe       axeFlags
}

func (b *browserFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.path, "browser.path", "", "Chrome or Chromium binary; default $"+browser.EnvPath+", else Debian's chromium-headless-shell, else Chromium (/usr/lib/chromium/chromium), else chromium-headless-shell, chromium, chromium-browser or google-chrome on PATH")
	fs.BoolVar(&b.noSandbox, "browser.no-sandbox", os.Geteuid() == 0,
		"run Chrome without its sandbox; Chrome refuses to start as root with the sandbox, so this defaults to true only for root")
	b.axe.register(fs)
}

// start starts Chrome with as many warm tabs as runs may go at once.
func (b *browserFlags) start(concurrency int, onRestart func()) (*browser.Browser, error) {
	return browser.Start(browser.Options{Path: b.path, NoSandbox: b.noSandbox, OnRestart: onRestart, WarmTabs: concurrency})
}

// vitalsFlags are the measurement flags of the commands that run flows.
type vitalsFlags struct {
	settle time.Duration
}

func (v *vitalsFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&v.settle, "vitals.settle", runner.DefaultVitalsSettle,
		"how long the final read of a page's web vitals may wait for the page to settle (loaded, images in the viewport arrived, no new LCP candidate or layout shift for a moment); a page still changing then is reported with lcp_final: false; 0 reads at once; a flow's vitals_settle overrides it. Not part of task time")
}

// runnerSettle is the flag as runner.Runner.VitalsSettle takes it, where
// zero means the default.
func (v *vitalsFlags) runnerSettle() time.Duration {
	if v.settle <= 0 {
		return -1
	}
	return v.settle
}

// logFlags are the logging flags of long-running commands.
type logFlags struct {
	level  string
	format string
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.level, "log.level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&l.format, "log.format", "logfmt", "log format: logfmt or json")
}

func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("--log.level %q: want debug, info, warn or error", l.level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch l.format {
	case "logfmt":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log.format %q: want logfmt or json", l.format)
}

// loadAll loads flow files and prints every error; it returns the valid
// flows and whether any file was invalid.
func loadAll(env *environment, paths []string, vars map[string]string, axe *scenarios.Axe) ([]*scenarios.Flow, bool, error) {
	results, err := scenarios.Load(paths, scenarios.LoadOptions{LookupEnv: env.lookupEnv, Vars: vars, Axe: axe})
	if err != nil {
		return nil, false, err
	}
	var flows []*scenarios.Flow
	invalid := false
	for _, r := range results {
		if r.Err != nil {
			invalid = true
			fmt.Fprintln(env.stderr, r.Err)
			continue
		}
		flows = append(flows, r.Flows...)
	}
	return flows, invalid, nil
}

func deviceNames(f *scenarios.Flow) string {
	names := make([]string, len(f.Devices))
	for i, d := range f.Devices {
		names[i] = d.Name
	}
	return strings.Join(names, ",")
}
