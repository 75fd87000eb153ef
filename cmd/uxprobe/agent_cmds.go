package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/exporter-toolkit/web"
	"golang.org/x/sync/errgroup"

	"github.com/uxprobe/uxprobe/agent"
	"github.com/uxprobe/uxprobe/agent/demoshop"
	"github.com/uxprobe/uxprobe/agent/history"
	"github.com/uxprobe/uxprobe/agent/redact"
	"github.com/uxprobe/uxprobe/agent/runner"
	"github.com/uxprobe/uxprobe/agent/sessions"
	promexp "github.com/uxprobe/uxprobe/exporters/prometheus"
	"github.com/uxprobe/uxprobe/scenarios"
	"github.com/uxprobe/uxprobe/scenarios/examples"
)

// Defaults of the agent's flags.
const (
	defaultListenAddress = ":9747"
	// The demo is for one person at their machine: it serves the shop and
	// the agent on loopback only, as the addresses it prints say.
	defaultDemoListenAddress = "127.0.0.1:9747"
	// defaultArtifactsDir is relative to the working directory, as check's:
	// a shared /tmp folder would mix the screenshots of every user on the
	// machine, and let one user's files stand in the way of another's.
	defaultArtifactsDir = "uxprobe-artifacts"
	// defaultBaselinesDir holds assert_screenshot's baselines, reviewed in
	// git like Playwright's snapshots.
	defaultBaselinesDir = "uxprobe-baselines"
	defaultDemoSplay    = 5 * time.Second
	defaultDemoSchedule = "@every 30s"
	defaultDemoShopAddr = "127.0.0.1:8080"
)

// agentFlags are the flags that `run` and `demo` share.
type agentFlags struct {
	listenAddress   string
	webConfigFile   string
	externalURL     string
	browser         browserFlags
	maxConcurrency  int
	splay           time.Duration
	shutdownTimeout time.Duration
	shard           string
	fleet           fleetFlags
	artifacts       string
	baselines       string
	storage         storageFlags
	har             harFlag
	filmstrip       filmstripFlag
	webRefresh      time.Duration
	vitals          vitalsFlags
	log             logFlags
	remoteWrite     remoteWriteFlags
	// axeWarning is said once at start when axe-core is missing.
	axeWarning string
}

// findAxe finds axe-core once for every load and reload.
func (f *agentFlags) findAxe(env *environment) *scenarios.Axe {
	info, warning := f.browser.axe.find(env)
	f.axeWarning = warning
	return info
}

func (f *agentFlags) register(fs *flag.FlagSet, listenAddress string, splay time.Duration) {
	fs.StringVar(&f.listenAddress, "web.listen-address", listenAddress,
		"address for /metrics, /api/v1/results, /-/healthy, /-/ready and /-/reload, as host:port; \":9747\" listens on every interface, port 0 picks a free port")
	fs.StringVar(&f.webConfigFile, "web.config.file", "",
		"exporter-toolkit web config file that turns on TLS and/or basic auth, as in every Prometheus exporter (https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md); empty serves plain HTTP without auth")
	fs.StringVar(&f.externalURL, "web.external-url", "", externalURLUsage)
	f.browser.register(fs)
	fs.IntVar(&f.maxConcurrency, "browser.max-concurrency", runtime.NumCPU(),
		"runs at the same time over all flows and devices, each in its own tab; more runs wait for a free slot (see uxprobe_run_queue_wait_seconds), which a run whose steps are done frees while its last page's vitals are read; raise it when runs queue, lower it when Chrome runs out of CPU or memory")
	fs.DurationVar(&f.splay, "schedule.splay", splay,
		"spread the start times of flows that share a schedule over this long: each flow gets a fixed offset in [0, splay) from its name; 0 starts them all at once")
	fs.DurationVar(&f.shutdownTimeout, "shutdown.timeout", agent.DefaultShutdownTimeout,
		"on SIGTERM or SIGINT, the bound of the whole shutdown: runs in progress may finish until a fifth of it (at most 3s) is left, then they are cancelled (recorded as result=\"error\", kind cancelled) and Chrome is closed")
	fs.StringVar(&f.shard, "shard", "",
		"I/N: run only the flows whose name hashes to shard I of N, so that N agents over the same flow files share the work (e.g. 0/3, 1/3 and 2/3); empty runs every flow")
	f.fleet.register(fs)
	fs.StringVar(&f.artifacts, "artifacts", defaultArtifactsDir,
		"directory for screenshots (the screenshot step and failure screenshots), relative to the working directory unless absolute; created if missing")
	fs.Var(&f.har, "artifacts.har", harUsage)
	fs.Var(&f.filmstrip, "artifacts.filmstrip", filmstripUsage)
	fs.StringVar(&f.baselines, "baselines", defaultBaselinesDir, baselinesUsage)
	f.storage.register(fs, defaultStoragePath,
		"directory of the run history behind the status page (/) and /api/v1/runs: an SQLite database (uxprobe.db) and each run's screenshots and HAR file; created if missing; empty keeps no history")
	fs.DurationVar(&f.webRefresh, "web.refresh", defaultWebRefresh,
		"how often the status page (/ and /flows/NAME) reloads itself in the browser; 0 never")
	f.vitals.register(fs)
	f.log.register(fs)
	f.remoteWrite.register(fs)
}

// runnerStarter starts what runs the agent's flows, and returns it with the
// function that stops it; the hooks hear of what the agent counts.
type runnerStarter func(f *agentFlags, hooks runnerHooks, log *slog.Logger) (agent.Runner, func() error, error)

// runnerHooks are the agent's counters that the browser and the runner feed:
// each browser restart, each artifact that could not be written.
type runnerHooks struct{ onRestart, onArtifactError func() }

// startChrome starts Chrome and returns the runner over it and the function
// that stops Chrome.
func startChrome(f *agentFlags, hooks runnerHooks, log *slog.Logger) (agent.Runner, func() error, error) {
	b, err := f.browser.start(f.maxConcurrency, hooks.onRestart)
	if err != nil {
		return nil, nil, err
	}
	log.Info("Chrome started", "path", b.Path(), "pid", b.PID())
	r := &runner.Runner{Browser: b, ArtifactsDir: f.artifacts, Logger: log, HAR: f.har.Mode(), Filmstrip: f.filmstrip.Mode(), OnArtifactError: hooks.onArtifactError, VitalsSettle: f.vitals.runnerSettle(), Baselines: f.baselines}
	return sessions.New(r), b.Close, nil // the login flows' sessions, in this process only
}

func runAgent(ctx context.Context, env *environment, args []string) int {
	fs := newFlagSet(env, "run", "PATH...",
		"Run the agent: every flow of the flow files and directories at PATH runs on its devices on its\n"+
			"schedule, and the results are served as Prometheus metrics on /metrics and as JSON on\n"+
			"/api/v1/results. SIGHUP or POST /-/reload rereads the files; an invalid file keeps its previous\n"+
			"flows running. SIGTERM stops scheduling, lets runs in progress finish and exits 0.")
	var af agentFlags
	af.register(fs, defaultListenAddress, agent.DefaultSplay)
	vars := varsFlag{}
	fs.Var(vars, "var", "set or override a flow variable, as name=value (e.g. --var base_url=https://staging.example.com); repeatable")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	paths := fs.Args()
	if len(paths) == 0 {
		fmt.Fprintln(env.stderr, "uxprobe run: give the flow files or directories to run, e.g. uxprobe run flows/")
		return exitUsage
	}
	// A path that is missing at start is most likely a typo: say so now.
	// Later, on reload, a vanished file keeps its flows, as an invalid one.
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			fmt.Fprintf(env.stderr, "uxprobe run: cannot read flows: %v\n", err)
			return exitUsage
		}
	}
	axe := af.findAxe(env)
	load := func() ([]scenarios.FileResult, error) {
		return scenarios.Load(paths, scenarios.LoadOptions{LookupEnv: env.lookupEnv, Vars: vars, Axe: axe})
	}
	return serveAgent(ctx, env, &af, load, nil)
}

func runDemo(ctx context.Context, env *environment, args []string) int {
	fs := newFlagSet(env, "demo", "",
		"Run the agent against the embedded demo shop with the example flows (uxprobe validate shows them).\n"+
			"Open the printed URLs, switch faults on at /admin/faults and watch the metrics change.")
	var af agentFlags
	af.register(fs, defaultDemoListenAddress, defaultDemoSplay)
	shopAddr := fs.String("demo.listen-address", defaultDemoShopAddr, "address of the demo shop, as host:port; port 0 picks a free port")
	schedule := fs.String("demo.schedule", defaultDemoSchedule, "schedule of every example flow but the login flow (account-login keeps its @every 1h): 5-field cron or @every <duration>")
	faults := fs.String("demo.faults", "", "faults the shop starts with: none, slow, slow=<duration>, checkout, js-error, missing-help, mobile-overflow, a11y, comma-separated; change them later at /admin/faults")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "uxprobe demo: takes no flow files (it runs the examples), got %q; use uxprobe run for your own flows\n", fs.Args())
		return exitUsage
	}
	initial, err := demoshop.ParseFaults(*faults)
	if err != nil {
		fmt.Fprintf(env.stderr, "uxprobe demo: --demo.faults: %v\n", err)
		return exitUsage
	}
	if err := scenarios.ValidateSchedule(*schedule); err != nil {
		fmt.Fprintf(env.stderr, "uxprobe demo: --demo.schedule %q: %v; use 5-field cron (\"*/5 * * * *\") or @every 30s\n", *schedule, err)
		return exitUsage
	}

	shop := demoshop.New()
	shop.SetFaults(initial)
	l, err := net.Listen("tcp", *shopAddr)
	if err != nil {
		fmt.Fprintf(env.stderr, "uxprobe demo: cannot serve the demo shop: %v; choose another --demo.listen-address\n", err)
		return exitRuntime
	}
	shopSrv := &http.Server{Handler: shop, ReadHeaderTimeout: 10 * time.Second}
	var shopDone sync.WaitGroup
	shopDone.Go(func() { _ = shopSrv.Serve(l) })
	defer func() {
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = shopSrv.Shutdown(shutCtx)
		shopDone.Wait()
	}()
	shopURL := "http://" + l.Addr().String()

	axe := af.findAxe(env)
	load := func() ([]scenarios.FileResult, error) {
		// The demo account's password and seed reach the flows as a real
		// deployment's secrets do, through the environment; unset, they
		// are the shop's public demo values.
		lookup := demoshop.DemoEnv(env.lookupEnv)
		flows, err := scenarios.LoadFS(examples.FS, scenarios.LoadOptions{LookupEnv: lookup, Vars: map[string]string{"base_url": shopURL}, Axe: axe})
		if err != nil {
			return []scenarios.FileResult{{Path: "examples", Err: err}}, nil
		}
		for _, f := range flows {
			if f.ProvidesSession {
				// A login flow keeps its own rare schedule: the flows
				// that use its session run it when theirs is missing,
				// too old or dropped, not on every demo tick.
				continue
			}
			if err := f.SetSchedule(*schedule); err != nil {
				return nil, err // validated above, so not expected
			}
		}
		return []scenarios.FileResult{{Path: "examples", Flows: flows}}, nil
	}
	banner := func(webURL string) {
		w := env.stdout
		fmt.Fprintf(w, "uxprobe demo: the example flows run %s against the demo shop.\n", *schedule)
		fmt.Fprintf(w, "  demo shop:       %s/\n", shopURL)
		fmt.Fprintf(w, "  fault switches:  %s/admin/faults\n", shopURL)
		fmt.Fprintf(w, "  metrics:         %s/metrics\n", webURL)
		if af.storage.enabled() {
			fmt.Fprintf(w, "  status page:     %s/\n", webURL)
		}
		fmt.Fprintf(w, "  latest results:  %s/api/v1/results\n", webURL)
		fmt.Fprintf(w, "Break checkout and watch uxprobe_flow_success{flow=\"checkout\"} drop to 0 on the next run:\n")
		fmt.Fprintf(w, "  curl -d faults=checkout %s/admin/faults    (undo: curl -d faults=none %s/admin/faults)\n", shopURL, shopURL)
	}
	return serveAgent(ctx, env, &af, load, banner)
}

// lateRunner lets the agent and its endpoints exist while Chrome starts;
// the runner is set before the agent runs anything.
type lateRunner struct{ agent.Runner }

// Unwrap lets the agent find the sessions' LoginRunner behind it.
func (l *lateRunner) Unwrap() agent.Runner { return l.Runner }

var _ interface{ Unwrap() agent.Runner } = (*lateRunner)(nil)

// loadAdding wraps load so that the valid flows it reads join secrets.
func loadAdding(load func() ([]scenarios.FileResult, error), secrets *redact.Flows) func() ([]scenarios.FileResult, error) {
	return func() ([]scenarios.FileResult, error) {
		files, err := load()
		for _, fr := range files {
			secrets.Add(fr.Flows)
		}
		return files, err
	}
}

// serveAgent runs the agent and its HTTP endpoints until ctx ends.
func serveAgent(ctx context.Context, env *environment, af *agentFlags, load func() ([]scenarios.FileResult, error), banner func(webURL string)) int {
	log, err := af.log.logger(env.stderr)
	if err != nil {
		fmt.Fprintln(env.stderr, "uxprobe:", err)
		return exitUsage
	}
	// Every log record is masked with the secrets of the flows loaded,
	// added to on each load and reload (see redact).
	secrets := &redact.Flows{}
	log = redact.Logger(log, secrets.Mask)
	load = loadAdding(load, secrets)
	if af.axeWarning != "" {
		log.Warn(af.axeWarning)
	}
	shard, err := agent.ParseShard(af.shard)
	if err != nil {
		fmt.Fprintf(env.stderr, "uxprobe: --shard: %v\n", err)
		return exitUsage
	}
	if !agent.ValidLocation(af.fleet.location) {
		fmt.Fprintf(env.stderr, "uxprobe: --location %q: want lower-case letters, digits and dashes, such as eu-west\n", af.fleet.location)
		return exitUsage
	}
	if af.maxConcurrency < 1 {
		fmt.Fprintf(env.stderr, "uxprobe: --browser.max-concurrency %d: want at least 1\n", af.maxConcurrency)
		return exitUsage
	}
	if af.splay < 0 || af.shutdownTimeout <= 0 {
		fmt.Fprintln(env.stderr, "uxprobe: --schedule.splay must not be negative and --shutdown.timeout must be positive")
		return exitUsage
	}
	if af.webConfigFile != "" {
		if err := web.Validate(af.webConfigFile); err != nil {
			fmt.Fprintf(env.stderr, "uxprobe: --web.config.file %s: %v\n", af.webConfigFile, err)
			return exitUsage
		}
	}
	externalURL, prefix, err := parseExternalURL(af.externalURL)
	if err != nil {
		fmt.Fprintf(env.stderr, "uxprobe: --web.external-url %q: %v\n", af.externalURL, err)
		return exitUsage
	}
	if af.artifacts != "" {
		if err := os.MkdirAll(af.artifacts, 0o755); err != nil {
			fmt.Fprintf(env.stderr, "uxprobe: --artifacts: %v\n", err)
			return exitUsage
		}
	}
	if af.webRefresh < 0 {
		fmt.Fprintln(env.stderr, "uxprobe: --web.refresh must not be negative")
		return exitUsage
	}
	files, err := load()
	if err != nil {
		// A path that cannot be read at all is a mistake in the command
		// line, not a flow file to fix while the agent runs.
		fmt.Fprintln(env.stderr, "uxprobe:", err)
		return exitUsage
	}

	// One store of the latest results: the agent fills and prunes it, the
	// collector and /api/v1/results read it.
	store := agent.NewStore()
	col := promexp.NewCollector(store, promexp.WithLocation(af.fleet.location))
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("uxprobe"),
		col,
	} {
		if err := reg.Register(c); err != nil {
			fmt.Fprintln(env.stderr, "uxprobe: registering metrics:", err)
			return exitRuntime
		}
	}
	pushMetrics, err := af.remoteWrite.start(reg, log)
	if err != nil {
		fmt.Fprintln(env.stderr, "uxprobe:", err)
		return exitUsage
	}
	// A store that cannot be opened is an agent error, not a reason to
	// stop: runs and metrics go on without history, and /-/ready says why.
	health, err := history.NewHealth(reg)
	if err != nil {
		fmt.Fprintln(env.stderr, "uxprobe: registering metrics:", err)
		return exitRuntime
	}
	hist, err := af.storage.open(ctx, health, log)
	if err != nil {
		log.Error("the run history cannot be opened; running without it", "store", af.storage.where(), "err", err)
	} else if hist != nil {
		log.Info("keeping run history", "store", af.storage.where())
		defer func() {
			if err := hist.Close(); err != nil {
				log.Warn("closing the run history", "err", err)
			}
		}()
	}
	var histExporter agent.Exporter
	if hist != nil {
		histExporter = hist // not a typed nil in the interface
	}

	splay := af.splay
	if splay == 0 {
		splay = -1 // the flag's 0 means no splay; the agent's 0 means its default
	}
	lr := &lateRunner{}
	var claims agent.Fleet
	if fl := openFleet(af.storage.URL(), &af.fleet, log); fl != nil {
		defer fl.Close()
		claims = fl // not a typed nil in the interface
	}
	a, err := agent.New(agent.Options{
		Runner:          lr,
		Exporters:       []agent.Exporter{col},
		History:         histExporter,
		Store:           store,
		Registerer:      reg,
		Load:            load,
		MaxConcurrency:  af.maxConcurrency,
		Splay:           splay,
		ShutdownTimeout: af.shutdownTimeout,
		Shard:           shard,
		Location:        af.fleet.location,
		Name:            af.fleet.agentName(),
		Fleet:           claims,
		Logger:          log,
	})
	if err != nil {
		fmt.Fprintln(env.stderr, "uxprobe:", err)
		return exitUsage
	}
	if err := a.Apply(files); err != nil {
		log.Warn("starting with the valid flow files only; fix the others and reload (SIGHUP or POST /-/reload)")
	}

	var browserUp atomic.Bool
	l, err := net.Listen("tcp", af.listenAddress)
	if err != nil {
		fmt.Fprintf(env.stderr, "uxprobe: cannot listen for HTTP: %v; choose another --web.listen-address\n", err)
		return exitRuntime
	}
	pages := historyPages(a, hist, health, &af.storage, af.webRefresh, prefix, af.baselines, log)
	if pages != nil {
		pages = remoteRunNow(pages, a, af.fleet.location, prefix)
	}
	if externalURL == "" {
		externalURL = defaultExternalURL(l.Addr())
	}
	a.SetExternalURL(externalURL)
	srv := &http.Server{
		Handler: underPrefix(prefix, newAgentHandler(a, reg, func() bool { return browserUp.Load() && a.Loaded() }, log,
			pages, storageNote(&af.storage, health, hist))),
		ReadHeaderTimeout: 10 * time.Second,
	}

	// The HTTP server, the agent and the SIGHUP loop run in one errgroup:
	// the first to fail stops the others. The server keeps serving until
	// the agent has stopped, so that /metrics answers while runs drain.
	g, gctx := errgroup.WithContext(ctx)
	agentDone := make(chan struct{})
	var closeAgentDone sync.Once
	stopServing := func() { closeAgentDone.Do(func() { close(agentDone) }) }
	g.Go(func() error {
		webFlags := &web.FlagConfig{WebListenAddresses: &[]string{af.listenAddress}, WebConfigFile: &af.webConfigFile}
		if err := web.Serve(l, srv, webFlags, log); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP server failed; stopping", "err", err)
			return fmt.Errorf("HTTP server: %w", err)
		}
		return nil
	})
	if pushMetrics != nil {
		g.Go(func() error {
			// The last push, after the agent stopped, carries its last runs.
			ctx, cancel := context.WithCancel(context.WithoutCancel(gctx))
			defer cancel()
			go func() {
				select {
				case <-agentDone:
				case <-gctx.Done():
				}
				cancel()
			}()
			return pushMetrics(ctx)
		})
	}
	if hist != nil {
		g.Go(func() error {
			// Retention stops with the agent; the store closes after g.
			ctx, cancel := context.WithCancel(gctx)
			defer cancel()
			go func() {
				select {
				case <-agentDone:
				case <-ctx.Done():
				}
				cancel()
			}()
			return hist.RunRetention(ctx)
		})
	}
	g.Go(func() error {
		<-agentDone
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutCtx)
		return nil
	})
	webURL := "http://" + displayAddr(l.Addr()) + prefix
	log.Info("serving metrics", "url", webURL+"/metrics", "external_url", externalURL, "flows", len(a.Flows()), "shard", shard.String())
	if banner != nil {
		banner(webURL)
	}

	startRunner := env.startRunner
	if startRunner == nil {
		startRunner = startChrome
	}
	r, closeBrowser, err := startRunner(af, runnerHooks{a.BrowserRestarted, a.ArtifactError}, log)
	if err != nil {
		stopServing()
		_ = g.Wait()
		fmt.Fprintln(env.stderr, "uxprobe:", err)
		return exitRuntime
	}
	lr.Runner = r
	browserUp.Store(true)

	g.Go(func() error {
		for {
			select {
			case <-gctx.Done():
				return nil
			case <-agentDone:
				return nil
			case <-env.sighup:
				log.Info("SIGHUP: reloading flow files")
				if err := a.Reload(); err != nil {
					log.Error("reload incomplete", "err", err)
				}
			}
		}
	})
	g.Go(func() error {
		defer stopServing()
		runErr := a.Run(gctx)
		if err := closeBrowser(); err != nil {
			log.Warn("closing Chrome", "err", err)
		}
		if runErr != nil {
			log.Error("stopping the agent", "err", runErr)
		}
		return runErr
	})
	if err := g.Wait(); err != nil {
		return exitRuntime
	}
	log.Info("agent stopped")
	return exitOK
}

// displayAddr turns a listener's address into one a person can open: a
// wildcard host becomes localhost.
func displayAddr(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
