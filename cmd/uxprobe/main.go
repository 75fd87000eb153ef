// Command uxprobe is a synthetic UX monitoring agent: it drives headless
// Chrome through user flows written in YAML, on desktop and mobile devices,
// and reports whether users can complete their tasks, how long it takes, and
// what goes wrong.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/prometheus/common/version"
)

// Exit codes, as CI systems read them.
const (
	exitOK      = 0
	exitFailed  = 1 // a flow failed, or a file is invalid
	exitUsage   = 2 // bad flags or arguments, or flows that do not validate (check)
	exitRuntime = 3 // uxprobe itself could not work (no Chrome, port in use)
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, env *environment, args []string) int
}

// environment is what a command may touch of the process, injected so that
// tests run commands in-process.
type environment struct {
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)
	// sighup delivers reload requests to `run` and `demo`.
	sighup <-chan os.Signal
	// startRunner starts what runs the flows of `run` and `demo`; nil
	// means Chrome (startChrome). Tests give a fake runner here.
	startRunner runnerStarter
}

var commands = map[string]command{
	"validate": {"check flow files and print a summary of each flow", runValidate},
	"check":    {"run flows once now; exit 0 if all succeed (for CI)", runCheck},
	"run":      {"run the agent: scheduled flows, Prometheus metrics", runAgent},
	"demo":     {"run the agent against the embedded demo shop", runDemo},
	"version":  {"print the version", runVersion},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	env := &environment{stdout: os.Stdout, stderr: os.Stderr, lookupEnv: os.LookupEnv, sighup: hup}
	os.Exit(run(ctx, env, os.Args[1:]))
}

// run dispatches to a subcommand and returns the exit code.
func run(ctx context.Context, env *environment, args []string) int {
	if len(args) == 0 {
		usage(env.stderr)
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stdout)
		return exitOK
	}
	if args[0] == "--version" {
		return runVersion(ctx, env, nil)
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "uxprobe: unknown command %q\n\n", args[0])
		usage(env.stderr)
		return exitUsage
	}
	return cmd.run(ctx, env, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "uxprobe drives headless Chrome through user flows written in YAML and reports what users experience.")
	fmt.Fprintln(w, "\nUsage: uxprobe COMMAND [flags] [PATH...]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'uxprobe COMMAND --help' for the flags of a command.")
}

// newFlagSet makes a flag set whose errors and help go to the command's
// stderr, with a usage text a newcomer can act on.
func newFlagSet(env *environment, name, args, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("uxprobe "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: uxprobe %s [flags] %s\n\n%s\n\nFlags:\n", name, args, about)
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" {
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(fs.Output(), "  --%s\n        %s%s\n", f.Name, f.Usage, def)
		})
	}
	return fs
}

// parseFlags parses args and reports whether the command should go on; code
// is the exit code when it should not.
func parseFlags(fs *flag.FlagSet, args []string) (ok bool, code int) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, exitOK
		}
		return false, exitUsage
	}
	return true, 0
}

// listFlag is a repeatable or comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// varsFlag collects --var name=value overrides of flow vars.
type varsFlag map[string]string

func (v varsFlag) String() string { return "" }
func (v varsFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=value, got %q", s)
	}
	v[name] = value
	return nil
}

// unstampedVersion is the version of a build that `make build` or the
// Dockerfile did not stamp, such as `go build` or `go test`: "dev" says so
// more plainly than prometheus/common's empty string.
const unstampedVersion = "dev"

func init() {
	if version.Version == "" {
		version.Version = unstampedVersion
	}
}

func runVersion(_ context.Context, env *environment, _ []string) int {
	fmt.Fprintln(env.stdout, version.Print("uxprobe"))
	return exitOK
}
