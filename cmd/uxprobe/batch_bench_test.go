package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/browser"
	"github.com/uxprobe/uxprobe/agent/demoshop"
	"github.com/uxprobe/uxprobe/agent/runner/rawbaseline"
	"github.com/uxprobe/uxprobe/scenarios/examples"
)

// batchSize is the batch: ten search runs.
const batchSize = 10

// BenchmarkBatchVsRawChromedp is the whole-process comparison: `uxprobe
// check` of ten copies of the search example against the raw-chromedp
// program rawbatch running the same search ten times, both as child
// processes driving the same Chrome binary (the one uxprobe picks). Each
// iteration runs both, in alternating order, so that both see the same
// machine from moment to moment. Wall time is from process start to exit;
// CPU is the whole machine's (/proc/stat, Chrome's processes come and go)
// from start until the last Chrome process of that side is gone, so that a
// browser still shutting down after its parent exited is charged to the
// side that started it, not to the next one. Where it can (as root), it
// also puts each side's process in a control group of its own, which
// counts the CPU of every process that side started, the exited ones
// included, and nothing else of the machine: tree-cpu-ratio, the side's
// own work, which the machine's other activity does not blur. Goal:
// time-ratio and the CPU ratios at most 1.0. Each ratio's -ci95 is the half
// width of its 95 % confidence interval over the pairs: on a 2-core VM one
// batch of the same program costs several per cent more or less than the
// next, and a ratio within its ci95 of 1.0 is parity, not a win or a loss.
//
// default is check as users run it (a filmstrip recorded for a possible
// failure); filmstrip-never shows what that recording costs; mobile is the
// default on the mobile device for both.
func BenchmarkBatchVsRawChromedp(b *testing.B) {
	bin := b.TempDir()
	uxprobe := goBuild(b, bin, "uxprobe", ".")
	rawbatch := goBuild(b, bin, "rawbatch", "github.com/uxprobe/uxprobe/agent/runner/rawbaseline/rawbatch")
	chrome, err := browser.Find("")
	if err != nil {
		b.Fatal(err)
	}
	shop := httptest.NewServer(demoshop.New())
	defer shop.Close()

	flows := b.TempDir()
	search, err := fs.ReadFile(examples.FS, "search.yaml")
	if err != nil {
		b.Fatal(err)
	}
	if !strings.Contains(string(search), "\nname: search\n") {
		b.Fatal("search.yaml has no `name: search` line to rename")
	}
	for i := 1; i <= batchSize; i++ {
		name := fmt.Sprintf("search-%02d", i)
		data := strings.Replace(string(search), "\nname: search\n", "\nname: "+name+"\n", 1)
		if err := os.WriteFile(filepath.Join(flows, name+".yaml"), []byte(data), 0o644); err != nil {
			b.Fatal(err)
		}
	}

	// Both sides' Chrome profiles go to a directory of their own, so that
	// their Chrome processes can be told from any other Chrome on the
	// machine by the --user-data-dir on their command line.
	tmp := b.TempDir()
	groups := map[string]*cpuGroup{}
	for _, name := range []string{"uxprobe", "raw"} {
		g, err := newCPUGroup(fmt.Sprintf("uxprobe-bench-%d-%s", os.Getpid(), name))
		if err != nil {
			b.Logf("CPU of the machine only: %v", err)
			break
		}
		b.Cleanup(g.remove)
		groups[name] = g
	}
	side := func(name, device string, extra ...string) *batchSide {
		s := &batchSide{name: name, tmp: tmp, out: b.TempDir(), group: groups[name]}
		if name == "uxprobe" {
			s.args = append([]string{uxprobe, "check", "--parallel", "1", "--device", device,
				"--browser.path", chrome, "--var", "base_url=" + shop.URL,
				"--artifacts", filepath.Join(s.out, "artifacts")}, extra...)
			s.args = append(s.args, flows)
			// Exit 0 with all ten runs in check's table: a check that ran
			// fewer flows would not be the same batch.
			s.check = func(out string) error {
				if n := len(okRow.FindAllString(out, -1)); n != batchSize {
					return fmt.Errorf("%d of %d runs are ok in the table", n, batchSize)
				}
				return nil
			}
		} else {
			s.args = []string{rawbatch, "-url", shop.URL, "-flow", "search", "-device", device,
				"-runs", fmt.Sprint(batchSize), "-browser", chrome}
		}
		return s
	}
	// A warm-up pair: the binaries and Chrome into the page cache.
	for _, s := range []*batchSide{side("uxprobe", "desktop"), side("raw", "desktop")} {
		s.run(b)
	}

	for _, c := range []struct {
		name, device string
		extra        []string
	}{
		{"default", "desktop", nil},
		{"filmstrip-never", "desktop", []string{"--artifacts.filmstrip", "never"}},
		{"mobile", "mobile", nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			ours, theirs := side("uxprobe", c.device, c.extra...), side("raw", c.device)
			pair := []*batchSide{ours, theirs}
			i := 0
			// Each pair's own ratios, for how far the ratio of the sums
			// can be trusted: one batch of the same program on this
			// machine differs from the next by several per cent.
			var wallRatios, cpuRatios, treeRatios []float64
			for b.Loop() {
				o, t := *ours, *theirs
				for _, s := range pair {
					s.run(b)
				}
				wallRatios = append(wallRatios, float64(ours.wall-o.wall)/float64(theirs.wall-t.wall))
				cpuRatios = append(cpuRatios, float64(ours.cpu-o.cpu)/float64(theirs.cpu-t.cpu))
				treeRatios = append(treeRatios, float64(ours.treeCPU-o.treeCPU)/float64(theirs.treeCPU-t.treeCPU))
				// The other order next time.
				pair[0], pair[1] = pair[1], pair[0]
				i++
			}
			n := float64(i)
			b.ReportMetric(float64(ours.wall)/float64(theirs.wall), "time-ratio")
			b.ReportMetric(float64(ours.cpu)/float64(theirs.cpu), "cpu-ratio")
			if i > 1 {
				b.ReportMetric(ci95(wallRatios), "time-ratio-ci95")
				b.ReportMetric(ci95(cpuRatios), "cpu-ratio-ci95")
			}
			if ours.group != nil && theirs.group != nil {
				b.ReportMetric(float64(ours.treeCPU)/float64(theirs.treeCPU), "tree-cpu-ratio")
				if i > 1 {
					b.ReportMetric(ci95(treeRatios), "tree-cpu-ratio-ci95")
				}
				for _, s := range []*batchSide{ours, theirs} {
					b.ReportMetric(float64(s.treeCPU.Microseconds())/1000/n, s.name+"-tree-cpu-ms/op")
				}
			}
			for _, s := range []*batchSide{ours, theirs} {
				b.ReportMetric(float64(s.wall.Microseconds())/1000/n, s.name+"-ms/op")
				b.ReportMetric(float64(s.cpu.Microseconds())/1000/n, s.name+"-cpu-ms/op")
				// How long its Chrome outlived it: in its CPU, not its time.
				b.ReportMetric(float64(s.drain.Microseconds())/1000/n, s.name+"-drain-ms/op")
			}
		})
	}
}

// ci95 is the half width of the 95 % confidence interval of the mean of
// xs (Student's t, two-sided): a ratio reported as 0.97 with a ci95 of
// 0.04 says only that the two sides are level.
func ci95(xs []float64) float64 {
	n := len(xs)
	if n < 2 {
		return 0
	}
	var sum, sq float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(n)
	for _, x := range xs {
		sq += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(sq / float64(n-1))
	// t(0.975) for 1 to 30 degrees of freedom; beyond, the normal's.
	t := []float64{12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
		2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
		2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042}
	q := 1.96
	if n-1 <= len(t) {
		q = t[n-2]
	}
	return q * sd / math.Sqrt(float64(n))
}

// batchSide is one side of the comparison: its command and its sums.
type batchSide struct {
	name             string
	args             []string
	tmp, out         string
	check            func(output string) error
	group            *cpuGroup // nil: the machine's CPU only
	wall, cpu, drain time.Duration
	treeCPU          time.Duration // of the side's control group
}

// okRow is a passed run's row of check's table.
var okRow = regexp.MustCompile(`(?m)^search-\d\d +\S+ +ok `)

// run runs the side's process once and adds its wall time and the
// machine's CPU over its window; a non-zero exit fails the benchmark with
// the process's output.
func (s *batchSide) run(b *testing.B) {
	b.Helper()
	// Files, not pipes: with a pipe, Wait would also wait for every Chrome
	// process that inherited it to exit.
	log, err := os.CreateTemp(s.out, s.name+"-*.log")
	if err != nil {
		b.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(s.args[0], s.args[1:]...)
	var g0 time.Duration
	if s.group != nil {
		// The shell joins the group and becomes the side's process, so
		// that the process and all it starts are in it from the first
		// instruction.
		cmd = exec.Command("/bin/sh", append([]string{"-c", `echo $$ > "$0/cgroup.procs" && exec "$@"`, s.group.dir}, s.args...)...)
		if g0, err = s.group.usage(); err != nil {
			b.Fatal(err)
		}
	}
	cmd.Dir, cmd.Stdout, cmd.Stderr = s.out, log, log
	cmd.Env = append(os.Environ(), "TMPDIR="+s.tmp)

	c0, t0 := rawbaseline.MachineCPU(), time.Now()
	err = cmd.Start()
	if err == nil {
		err = cmd.Wait()
	}
	t1 := time.Now()
	for err == nil && chromeRunning(s.tmp) {
		if time.Since(t1) > 10*time.Second {
			err = fmt.Errorf("its Chrome still runs 10 s after it exited")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c1, t2 := rawbaseline.MachineCPU(), time.Now()
	if s.group != nil && err == nil {
		g1, gerr := s.group.usage()
		if gerr != nil {
			b.Fatal(gerr)
		}
		s.treeCPU += g1 - g0
	}
	out, _ := os.ReadFile(log.Name())
	if err == nil && s.check != nil {
		err = s.check(string(out))
	}
	if err != nil {
		b.Fatalf("%s: %v\n%s", strings.Join(s.args, " "), err, out)
	}
	s.wall += t1.Sub(t0)
	s.drain += t2.Sub(t1)
	s.cpu += c1 - c0
	_ = os.Remove(log.Name())
}

// chromeRunning says whether any process has dir on its command line: a
// Chrome whose profile is there.
func chromeRunning(dir string) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(cmdline), dir+"/") {
			return true
		}
	}
	return false
}

// goBuild builds the package into dir/name with the go command of the Go
// that built this test, as `make build` and the Dockerfile build uxprobe:
// static (CGO_ENABLED=0) and -trimpath. Both sides are built alike, so that
// each starts as the binary users run would.
func goBuild(b *testing.B, dir, name, pkg string) string {
	b.Helper()
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goCmd); err != nil {
		if goCmd, err = exec.LookPath("go"); err != nil {
			b.Skip("no go command to build the binaries with")
		}
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command(goCmd, "build", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

// cpuGroup is a control group that one side's processes run in: its CPU
// usage is that of every process the side started, the exited ones
// included, and of nothing else.
type cpuGroup struct {
	dir   string
	stat  string // the file of its usage
	isV2  bool   // cpu.stat's usage_usec, else cpuacct.usage's nanoseconds
	owner bool   // made here, removed at the end
}

// newCPUGroup makes the group under cgroup v2 (alone or beside v1) or v1's
// cpuacct hierarchy: root's, or a delegated user's.
func newCPUGroup(name string) (*cpuGroup, error) {
	for _, h := range []struct {
		root, stat string
		v2         bool
	}{
		{"/sys/fs/cgroup", "cpu.stat", true},
		{"/sys/fs/cgroup/unified", "cpu.stat", true},
		{"/sys/fs/cgroup/cpuacct", "cpuacct.usage", false},
	} {
		if _, err := os.Stat(filepath.Join(h.root, "cgroup.procs")); err != nil {
			continue
		}
		dir := filepath.Join(h.root, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			continue
		}
		g := &cpuGroup{dir: dir, stat: filepath.Join(dir, h.stat), isV2: h.v2, owner: true}
		if _, err := g.usage(); err != nil {
			g.remove()
			continue
		}
		return g, nil
	}
	return nil, errors.New("no control group could be made (cgroup v2, or v1's cpuacct, writable by this user)")
}

// usage is the group's CPU time so far.
func (g *cpuGroup) usage() (time.Duration, error) {
	data, err := os.ReadFile(g.stat)
	if err != nil {
		return 0, err
	}
	if !g.isV2 {
		ns, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		return time.Duration(ns), err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
			us, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return time.Duration(us) * time.Microsecond, err
		}
	}
	return 0, fmt.Errorf("%s has no usage_usec", g.stat)
}

// remove removes the group, once its processes are gone.
func (g *cpuGroup) remove() {
	if g.owner {
		_ = os.Remove(g.dir)
	}
}
