package deploy_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/version"

	"github.com/uxprobe/uxprobe/agent/audit"
	"github.com/uxprobe/uxprobe/scenarios"
)

// instruction is one Dockerfile instruction with its continuation lines
// joined.
type instruction struct {
	Line int
	Cmd  string // upper case: FROM, RUN, ...
	Args string
}

// stage is one FROM and the instructions after it.
type stage struct {
	From         string // the FROM arguments
	Instructions []instruction
}

func parseDockerfile(t *testing.T, text string) []stage {
	t.Helper()
	var stages []stage
	var cur strings.Builder
	start := 0
	flush := func() {
		s := strings.TrimSpace(cur.String())
		cur.Reset()
		if s == "" {
			return
		}
		cmd, args, _ := strings.Cut(s, " ")
		in := instruction{Line: start, Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)}
		if in.Cmd == "FROM" {
			stages = append(stages, stage{From: in.Args})
			return
		}
		if len(stages) == 0 {
			if in.Cmd != "ARG" {
				t.Errorf("Dockerfile:%d: %s before the first FROM", in.Line, in.Cmd)
			}
			return
		}
		stages[len(stages)-1].Instructions = append(stages[len(stages)-1].Instructions, in)
	}
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue // comments, also between continuation lines
		}
		if cur.Len() == 0 {
			if trimmed == "" {
				continue
			}
			start = i + 1
		}
		if body, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	return stages
}

func (s stage) all(cmd string) []instruction {
	var ins []instruction
	for _, in := range s.Instructions {
		if in.Cmd == cmd {
			ins = append(ins, in)
		}
	}
	return ins
}

// last returns the arguments of the stage's last instruction cmd, which is
// the one in effect for ENTRYPOINT, CMD, USER and HEALTHCHECK.
func (s stage) last(cmd string) (string, bool) {
	ins := s.all(cmd)
	if len(ins) == 0 {
		return "", false
	}
	return ins[len(ins)-1].Args, true
}

// index returns the position of the first instruction whose command is cmd
// and whose arguments contain sub, or -1.
func (s stage) index(cmd, sub string) int {
	return slices.IndexFunc(s.Instructions, func(in instruction) bool {
		return in.Cmd == cmd && strings.Contains(in.Args, sub)
	})
}

func execForm(s string) ([]string, error) {
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("%s is not in exec (JSON array) form: %v", s, err)
	}
	return v, nil
}

// stampedVars are the variables of prometheus/common/version that the
// Dockerfile and the Makefile stamp, with the ARG (and its default) or make
// variable that sets each. Taking their addresses makes the build of this
// test fail if one goes away from the package.
var stampedVars = []struct {
	name string
	addr *string
	arg  string
}{
	{"Version", &version.Version, "VERSION=dev"},
	{"Revision", &version.Revision, "REVISION=unknown"},
	{"Branch", &version.Branch, "BRANCH=unknown"},
	{"BuildDate", &version.BuildDate, "BUILD_DATE=unknown"},
}

const versionPkg = "github.com/prometheus/common/version"

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, string(readFile(t, dockerfile)))
	if len(stages) < 2 {
		t.Fatalf("%d FROM stages, want a build stage and a runtime stage", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]
	runs := func(s stage) string {
		var b strings.Builder
		for _, in := range s.all("RUN") {
			b.WriteString(in.Args + "\n")
		}
		return b.String()
	}

	tests := []struct {
		name  string
		check func() error
	}{
		{"build stage", func() error {
			if !strings.Contains(build.From, "golang:1.26-bookworm") {
				return fmt.Errorf("first stage is FROM %s, want golang:1.26-bookworm", build.From)
			}
			return nil
		}},
		{"static, reproducible build", func() error {
			env := ""
			for _, in := range append(build.all("ENV"), build.all("ARG")...) {
				env += in.Args + " "
			}
			if !strings.Contains(env+runs(build), "CGO_ENABLED=0") {
				return fmt.Errorf("the build stage does not set CGO_ENABLED=0")
			}
			if !strings.Contains(runs(build), "go build -trimpath") {
				return fmt.Errorf("no `go build -trimpath`")
			}
			return nil
		}},
		{"version stamped", func() error {
			for _, v := range stampedVars {
				argName, _, _ := strings.Cut(v.arg, "=")
				if !strings.Contains(runs(build), "-X "+versionPkg+"."+v.name+"=${"+argName+"}") {
					return fmt.Errorf("go build does not stamp %s.%s from ${%s}", versionPkg, v.name, argName)
				}
				if build.index("ARG", v.arg) < 0 {
					return fmt.Errorf("no ARG %s in the build stage", v.arg)
				}
			}
			return nil
		}},
		{"modules cached before the source", func() error {
			dl, src := build.index("RUN", "go mod download"), build.index("COPY", ". .")
			if dl < 0 || src < 0 || dl > src {
				return fmt.Errorf("`go mod download` must come before COPY . . (at %d and %d)", dl, src)
			}
			return nil
		}},
		{"runtime stage", func() error {
			if !strings.Contains(final.From, "debian:bookworm-slim") {
				return fmt.Errorf("last stage is FROM %s, want debian:bookworm-slim", final.From)
			}
			r := runs(final)
			for _, want := range []string{"--no-install-recommends", "chromium-headless-shell", "ca-certificates", "fonts-", "rm -rf /var/lib/apt/lists"} {
				if !strings.Contains(r, want) {
					return fmt.Errorf("the runtime stage's apt-get lacks %s", want)
				}
			}
			if final.index("ENV", "UXPROBE_BROWSER=/usr/lib/chromium/chromium-headless-shell") < 0 {
				return fmt.Errorf("no ENV UXPROBE_BROWSER=/usr/lib/chromium/chromium-headless-shell")
			}
			return nil
		}},
		{"non-root user", func() error {
			u, ok := final.last("USER")
			if !ok {
				return fmt.Errorf("no USER: the image would run as root")
			}
			if user, _, _ := strings.Cut(u, ":"); user == "root" || user == "0" || user != "10001" {
				return fmt.Errorf("USER %s, want 10001 (numeric, for runAsNonRoot)", u)
			}
			return nil
		}},
		{"entrypoint and command", func() error {
			ep, ok := final.last("ENTRYPOINT")
			if !ok {
				return fmt.Errorf("no ENTRYPOINT")
			}
			epv, err := execForm(ep)
			if err != nil {
				return err
			}
			if !slices.Equal(epv, []string{"uxprobe"}) {
				return fmt.Errorf("ENTRYPOINT %q, want [\"uxprobe\"]", epv)
			}
			cmd, ok := final.last("CMD")
			if !ok {
				return fmt.Errorf("no CMD")
			}
			cmdv, err := execForm(cmd)
			if err != nil {
				return err
			}
			if !slices.Equal(cmdv, []string{"run", "/etc/uxprobe/flows"}) {
				return fmt.Errorf("CMD %q, want [\"run\", \"/etc/uxprobe/flows\"]", cmdv)
			}
			if f := argsFlags(cmdv); len(f) != 0 {
				return fmt.Errorf("CMD passes flags %q", f)
			}
			if final.index("COPY", "/etc/uxprobe/flows/") < 0 {
				return fmt.Errorf("no flows are copied to /etc/uxprobe/flows/ for CMD to run")
			}
			return nil
		}},
		{"port", func() error {
			if e, _ := final.last("EXPOSE"); !slices.Contains(strings.Fields(e), "9747") {
				return fmt.Errorf("EXPOSE %q, want 9747", e)
			}
			return nil
		}},
		{"healthcheck", func() error {
			hc, ok := final.last("HEALTHCHECK")
			if !ok || !strings.Contains(hc, "http://127.0.0.1:9747/-/healthy") {
				return fmt.Errorf("HEALTHCHECK %q does not get http://127.0.0.1:9747/-/healthy", hc)
			}
			_, c, ok := strings.Cut(hc, "CMD ")
			if !ok {
				return fmt.Errorf("HEALTHCHECK %q has no CMD", hc)
			}
			args, err := execForm(c)
			if err != nil {
				return err
			}
			// The tool must be installed in the runtime stage.
			if !strings.Contains(runs(final), " "+path.Base(args[0])+" ") {
				return fmt.Errorf("HEALTHCHECK runs %s, which the runtime stage does not install", args[0])
			}
			return nil
		}},
		{"axe-core bundled at the pinned version", func() error {
			// A stage installs axe-core from npm at the version of the
			// Makefile and of scenarios.AxeVersion ...
			var axe *stage
			for i := range stages[1 : len(stages)-1] {
				if st := &stages[1+i]; strings.Contains(runs(*st), "npm install") {
					axe = st
				}
			}
			if axe == nil {
				return fmt.Errorf("no stage runs npm install for axe-core")
			}
			if !strings.Contains(runs(*axe), "axe-core@${AXE_VERSION}") || axe.index("ARG", "AXE_VERSION="+scenarios.AxeVersion) < 0 {
				return fmt.Errorf("the axe-core stage does not install axe-core@${AXE_VERSION} with ARG AXE_VERSION=%s", scenarios.AxeVersion)
			}
			if !strings.Contains(string(readFile(t, "../Makefile")), "AXE_VERSION := "+scenarios.AxeVersion+"\n") {
				return fmt.Errorf("the Makefile does not pin AXE_VERSION := %s", scenarios.AxeVersion)
			}
			// ... and the runtime stage has its axe.min.js where uxprobe
			// looks by default.
			name, _, _ := strings.Cut(strings.Fields(axe.From)[len(strings.Fields(axe.From))-1], " ")
			for _, in := range final.all("COPY") {
				if strings.Contains(in.Args, "--from="+name+" ") && strings.Contains(in.Args, "axe-core/axe.min.js") &&
					strings.HasSuffix(in.Args, " "+path.Dir(audit.ImageAxePath)+"/") {
					return nil
				}
			}
			return fmt.Errorf("the runtime stage does not COPY --from=%s axe.min.js into %s/", name, path.Dir(audit.ImageAxePath))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.check(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestDockerignore(t *testing.T) {
	var patterns []string
	for _, line := range strings.Split(string(readFile(t, dockerignore)), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, line)
		}
	}
	excluded := func(p string) bool {
		for _, pat := range patterns {
			pat = strings.TrimPrefix(pat, "/")
			anyDepth := strings.HasPrefix(pat, "**/")
			pat = strings.TrimPrefix(pat, "**/")
			parts := strings.Split(p, "/")
			// A pattern excludes a path if it matches the path or one of
			// its parent directories (at any depth for **/).
			for i := range parts {
				for j := i + 1; j <= len(parts); j++ {
					if i > 0 && !anyDepth {
						break
					}
					if ok, _ := path.Match(pat, strings.Join(parts[i:j], "/")); ok {
						return true
					}
				}
			}
		}
		return false
	}
	tests := []struct {
		path string
		want bool
	}{
		{".git/HEAD", true},
		{"testdata/flows/valid/a.yaml", true},
		{"scenarios/testdata/x.yaml", true},
		{"agent/agent.test", true},
		{"go.mod", false},
		{"go.sum", false},
		{"cmd/uxprobe/main.go", false},
		{"cmd/uxprobe/agent_http.go", false},
		{"scenarios/examples/search.yaml", false},
		{"agent/demoshop/static/app.js", false},
		{"exporters/prometheus/names.go", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := excluded(tt.path); got != tt.want {
				t.Errorf("excluded = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestMakefileStampsBuildInfo checks that `make build` stamps every variable
// the Dockerfile stamps, from the make variable of the same name as the ARG.
func TestMakefileStampsBuildInfo(t *testing.T) {
	mk := string(readFile(t, "../Makefile"))
	if !strings.Contains(mk, "VERSION_PKG := "+versionPkg+"\n") {
		t.Fatalf("the Makefile does not set VERSION_PKG := %s", versionPkg)
	}
	for _, v := range stampedVars {
		argName, _, _ := strings.Cut(v.arg, "=")
		if want := "-X $(VERSION_PKG)." + v.name + "=$(" + argName + ")"; !strings.Contains(mk, want) {
			t.Errorf("the Makefile's LDFLAGS lack %s", want)
		}
	}
}

// TestStampedBuildPrintsItsVersion builds uxprobe with the -X flags that the
// Makefile and the Dockerfile use and checks that `uxprobe version` prints
// what was stamped: a moved variable would make -X silently do nothing.
func TestStampedBuildPrintsItsVersion(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{"Version": "v9.8.7-test", "Revision": "0123abcd", "Branch": "release-test", "BuildDate": "20260102-03:04:05"}
	var ldflags []string
	for _, v := range stampedVars {
		ldflags = append(ldflags, "-X "+versionPkg+"."+v.name+"="+values[v.name])
	}
	bin := filepath.Join(t.TempDir(), "uxprobe")
	build := exec.Command(goTool, "build", "-ldflags", strings.Join(ldflags, " "), "-o", bin, "./cmd/uxprobe")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("uxprobe version: %v\n%s", err, out)
	}
	for _, want := range []string{
		"uxprobe, version v9.8.7-test (branch: release-test, revision: 0123abcd)",
		"build date:       20260102-03:04:05",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("uxprobe version lacks %q:\n%s", want, out)
		}
	}
}
