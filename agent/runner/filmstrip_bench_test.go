package runner

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/demoshop"
	"github.com/uxprobe/uxprobe/agent/runner/rawbaseline"
)

// BenchmarkFilmstrip is the cost of --artifacts.filmstrip on-failure, which
// records every run's screencast and keeps it only when the run fails:
// the demo shop's checkout, which passes, run with never and on-failure in
// turn, so that both see the same machine. The goal is at most 10 % more
// CPU. It reports the CPU of this process and Chrome's (every process
// under it, the renderers it reaped included: tree-cpu-ms), which other
// work on the machine does not change, and the whole machine's busy time
// (machine-cpu-ms, as BenchmarkVsRawChromedp), which it does; and the load
// average at the end, to judge the latter.
func BenchmarkFilmstrip(b *testing.B) {
	// The examples' account flows need the demo account's secrets to load,
	// as `uxprobe demo` hands them over.
	for name, v := range map[string]string{demoshop.EnvDemoPassword: demoshop.DemoPassword, demoshop.EnvDemoTOTPSeed: demoshop.DemoTOTPSeed} {
		if _, ok := os.LookupEnv(name); !ok {
			b.Setenv(name, v)
		}
	}
	_, flows := benchShop(b)
	f := flows["checkout"]
	for _, dev := range []string{"desktop", "mobile"} {
		d, _ := f.Device(dev)
		b.Run("checkout/"+dev, func(b *testing.B) {
			modes := []FilmstripMode{FilmstripNever, FilmstripOnFailure}
			runners := make([]*Runner, len(modes))
			for i, m := range modes {
				runners[i] = &Runner{Browser: testBrowser, ArtifactsDir: b.TempDir(), Filmstrip: m}
				if res := runners[i].Run(context.Background(), f, d); !res.Success { // warm-up
					b.Fatalf("%s: %+v", m, res.Error)
				}
			}
			tree := make([]time.Duration, len(modes))
			machine := make([]time.Duration, len(modes))
			order := []int{0, 1}
			for b.Loop() {
				// Each mode goes first in every other round, so that
				// neither always follows the other's leftovers.
				order[0], order[1] = order[1], order[0]
				for _, i := range order {
					r := runners[i]
					testBrowser.Settle()
					t0, m0 := treeCPU(), rawbaseline.MachineCPU()
					if res := r.Run(context.Background(), f, d); !res.Success {
						b.Fatalf("%s: %+v", modes[i], res.Error)
					}
					testBrowser.Settle()
					tree[i] += treeCPU() - t0
					machine[i] += rawbaseline.MachineCPU() - m0
				}
			}
			per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
			b.ReportMetric(per(tree[0]), "never-tree-cpu-ms/op")
			b.ReportMetric(per(tree[1]), "onfail-tree-cpu-ms/op")
			b.ReportMetric(float64(tree[1])/float64(tree[0]), "tree-cpu-ratio")
			b.ReportMetric(float64(machine[1])/float64(machine[0]), "machine-cpu-ratio")
			b.ReportMetric(loadAverage(), "load1")
		})
	}
}

// treeCPU is the CPU time of this process and of every process under it
// (Chrome's, which it started), with what each reaped of its own children.
func treeCPU() time.Duration {
	type proc struct {
		ppid  int
		ticks int64
	}
	procs := map[int]proc{}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range dirs {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // gone since the glob
		}
		// The command may hold spaces and parentheses: fields start after
		// the last ")".
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) < 15 {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		ppid, _ := strconv.Atoi(fields[1])
		var ticks int64
		for _, f := range fields[11:15] { // utime, stime, cutime, cstime
			n, _ := strconv.ParseInt(f, 10, 64)
			ticks += n
		}
		procs[pid] = proc{ppid, ticks}
	}
	self := os.Getpid()
	under := func(pid int) bool {
		for n := 0; pid > 1 && n < 64; n++ {
			if pid == self {
				return true
			}
			pid = procs[pid].ppid
		}
		return false
	}
	var ticks int64
	for pid, p := range procs {
		if under(pid) {
			ticks += p.ticks
		}
	}
	const userHZ = 100
	return time.Duration(ticks) * time.Second / userHZ
}

// loadAverage is the machine's one-minute load average.
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseFloat(strings.Fields(string(data))[0], 64)
	return v
}
