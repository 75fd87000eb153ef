package deploy_test

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// runFlags are the flags of `uxprobe run`, by name without dashes, with the
// default its --help shows ("" when it shows none).
type runFlags map[string]string

// helpFlagLine and helpDefault read the flag list that `uxprobe COMMAND
// --help` prints: "  --name" on a line of its own, then its usage indented
// by 8 spaces, ending in "(default value)" when the default is not empty.
var (
	helpFlagLine = regexp.MustCompile(`^  --([a-z0-9][a-z0-9._-]*)$`)
	helpDefault  = regexp.MustCompile(`\(default (.*)\)$`)
)

// runHelp is the output of `uxprobe run --help`, from a binary built once
// for all the tests that read it and removed right after: they need its
// words, not the binary.
var runHelp = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "uxprobe-help-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	bin, err := buildUxprobeIn(dir)
	if err != nil {
		return "", err
	}
	out, err := exec.Command(bin, "run", "--help").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("uxprobe run --help: %v\n%s", err, out)
	}
	return string(out), nil
})

// uxprobeRunFlags reads the flags of `run` from the --help of the binary
// built from this checkout, so that the deployment files are checked against
// the binary itself rather than against a copy of its flag list.
func uxprobeRunFlags(t *testing.T) runFlags {
	t.Helper()
	out, err := runHelp()
	if err != nil {
		t.Fatal(err)
	}
	flags := runFlags{}
	name := ""
	for _, line := range strings.Split(out, "\n") {
		if m := helpFlagLine.FindStringSubmatch(line); m != nil {
			name = m[1]
			flags[name] = ""
			continue
		}
		if name != "" && strings.HasPrefix(line, "        ") {
			if m := helpDefault.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				flags[name] = m[1]
			}
		}
	}
	// A change of the help format must fail here, not make every flag
	// look unknown or every default look empty.
	for _, want := range []string{"web.listen-address", "shard", "shutdown.timeout"} {
		if _, ok := flags[want]; !ok {
			t.Fatalf("found no --%s in `uxprobe run --help`; has its format changed?\n%s", want, out)
		}
	}
	return flags
}

// check reports every flag of a uxprobe command line that `run` does not
// have. args are the arguments after the binary, starting with "run".
func (f runFlags) check(where string, args []string) error {
	if len(args) == 0 || args[0] != "run" {
		return fmt.Errorf("%s: %q does not start with the command run", where, args)
	}
	var unknown []string
	for _, name := range argsFlags(args) {
		if _, ok := f[name]; !ok {
			unknown = append(unknown, "--"+name)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%s passes %s, which `uxprobe run --help` does not list", where, strings.Join(unknown, ", "))
	}
	return nil
}

// value returns the value a command line gives a flag (as --name=value or
// --name value), else the flag's default.
func (f runFlags) value(args []string, name string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		n, v, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || n != name {
			continue
		}
		if hasValue {
			return v
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return f[name]
}

// listenPort is the port the agent serves on with these arguments.
func (f runFlags) listenPort(t *testing.T, args []string) int {
	t.Helper()
	addr := f.value(args, "web.listen-address")
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("--web.listen-address %q: %v", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("--web.listen-address %q: the port is not a number", addr)
	}
	return port
}

// urlPort returns the port of an http URL, or 0 when s is not one.
func urlPort(s string) int {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" {
		return 0
	}
	p, _ := strconv.Atoi(u.Port())
	return p
}

// backtickCommand finds the uxprobe command lines that comments suggest, as
// in "add `run --browser.no-sandbox /etc/uxprobe/flows` after the image
// name".
var backtickCommand = regexp.MustCompile("`(run [^`]*)`")

func TestDockerfileFlagsAndPort(t *testing.T) {
	flags := uxprobeRunFlags(t)
	text := string(readFile(t, dockerfile))
	stages := parseDockerfile(t, text)
	if len(stages) == 0 {
		t.Fatal("the Dockerfile has no FROM")
	}
	final := stages[len(stages)-1]
	execArgs := func(cmd string) []string {
		t.Helper()
		s, ok := final.last(cmd)
		if !ok {
			return nil
		}
		v, err := execForm(s)
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		return v
	}
	// The container's command line is ENTRYPOINT followed by CMD.
	argv := append(execArgs("ENTRYPOINT"), execArgs("CMD")...)
	if len(argv) == 0 || path.Base(argv[0]) != "uxprobe" {
		t.Fatalf("ENTRYPOINT and CMD run %q, want uxprobe", argv)
	}
	args := argv[1:]
	port := flags.listenPort(t, args)

	t.Run("ENTRYPOINT and CMD flags", func(t *testing.T) {
		if err := flags.check("ENTRYPOINT+CMD", args); err != nil {
			t.Error(err)
		}
	})
	t.Run("documented CMD overrides", func(t *testing.T) {
		var comments strings.Builder
		for _, line := range strings.Split(text, "\n") {
			if c, ok := strings.CutPrefix(strings.TrimSpace(line), "#"); ok {
				comments.WriteString(strings.TrimSpace(c) + " ")
			}
		}
		for _, m := range backtickCommand.FindAllStringSubmatch(comments.String(), -1) {
			if err := flags.check("the comment `"+m[1]+"`", strings.Fields(m[1])); err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("HEALTHCHECK", func(t *testing.T) {
		hc, ok := final.last("HEALTHCHECK")
		if !ok || strings.TrimSpace(hc) == "NONE" {
			return
		}
		_, c, ok := strings.Cut(hc, "CMD ")
		if !ok {
			t.Fatalf("HEALTHCHECK %q has no CMD", hc)
		}
		hcArgv, err := execForm(c)
		if err != nil {
			t.Fatal(err)
		}
		if path.Base(hcArgv[0]) == "uxprobe" {
			if err := flags.check("HEALTHCHECK", hcArgv[1:]); err != nil {
				t.Error(err)
			}
		}
		for _, a := range hcArgv[1:] {
			if p := urlPort(a); p != 0 && p != port {
				t.Errorf("HEALTHCHECK gets %s, but the agent listens on port %d", a, port)
			}
		}
	})
	t.Run("EXPOSE", func(t *testing.T) {
		var exposed []string
		for _, in := range final.all("EXPOSE") {
			for _, p := range strings.Fields(in.Args) {
				p, _, _ = strings.Cut(p, "/") // 9747/tcp
				exposed = append(exposed, p)
			}
		}
		if !slices.Equal(exposed, []string{strconv.Itoa(port)}) {
			t.Errorf("EXPOSE %q, want the agent's port %d only", exposed, port)
		}
	})
}

func TestStatefulSetFlagsAndPorts(t *testing.T) {
	flags := uxprobeRunFlags(t)
	var s statefulSet
	object(t, shardedDir, "StatefulSet", &s)
	c := agent(t, &s)
	// The fields that the shared statefulSet type does not read.
	var extra struct {
		Spec struct {
			Template struct {
				Spec struct {
					TerminationGracePeriodSeconds *int `yaml:"terminationGracePeriodSeconds"`
					Containers                    []struct {
						Name    string   `yaml:"name"`
						Command []string `yaml:"command"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	object(t, shardedDir, "StatefulSet", &extra)
	port := flags.listenPort(t, c.Args)

	t.Run("args", func(t *testing.T) {
		for _, ec := range extra.Spec.Template.Spec.Containers {
			if ec.Name == c.Name && len(ec.Command) > 0 {
				// command replaces the image's ENTRYPOINT ["uxprobe"]: args
				// would no longer be uxprobe's.
				t.Fatalf("the uxprobe container sets command %q; leave it to the image", ec.Command)
			}
		}
		if err := flags.check("the StatefulSet's args", c.Args); err != nil {
			t.Error(err)
		}
	})
	t.Run("container port", func(t *testing.T) {
		if len(c.Ports) == 0 {
			t.Fatal("the uxprobe container declares no port")
		}
		for _, p := range c.Ports {
			if p.ContainerPort != port {
				t.Errorf("container port %s is %d, but the agent listens on port %d", p.Name, p.ContainerPort, port)
			}
		}
		for name, pr := range map[string]*probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
			if pr != nil && pr.HTTPGet != nil && c.port(pr.HTTPGet.Port) != port {
				t.Errorf("the %s probe gets port %v, but the agent listens on port %d", name, pr.HTTPGet.Port, port)
			}
		}
	})
	t.Run("sidecar URLs", func(t *testing.T) {
		// Sidecars share the pod's network: a URL of 127.0.0.1 or
		// localhost is the agent.
		for _, sc := range s.Spec.Template.Spec.Containers {
			for _, a := range sc.Args {
				_, v, _ := strings.Cut(a, "=")
				u, err := url.Parse(v)
				if err != nil || u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" {
					continue
				}
				if p := urlPort(v); p != port {
					t.Errorf("container %s: %s, but the agent listens on port %d", sc.Name, a, port)
				}
			}
		}
	})
	t.Run("grace period covers the shutdown timeout", func(t *testing.T) {
		v := flags.value(c.Args, "shutdown.timeout")
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("--shutdown.timeout %q: %v", v, err)
		}
		grace := 30 // Kubernetes' default
		if g := extra.Spec.Template.Spec.TerminationGracePeriodSeconds; g != nil {
			grace = *g
		}
		// Runs in flight get the shutdown timeout to finish, then Chrome
		// must close; a pod killed before that loses their results.
		if time.Duration(grace)*time.Second <= d {
			t.Errorf("terminationGracePeriodSeconds %d is not longer than --shutdown.timeout %s", grace, d)
		}
	})
}
