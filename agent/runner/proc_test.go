package runner

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// procStat is what the tests need of a process: its parent and CPU time.
type procStat struct {
	ppid int
	cpu  time.Duration
}

// readProcs reads every process's parent and CPU time from /proc.
func readProcs() map[int]procStat {
	procs := map[int]procStat{}
	ents, _ := os.ReadDir("/proc")
	const userHZ = 100 // clock ticks per second of /proc/*/stat on Linux
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		// The command name may hold spaces; the fields start after ")".
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.Atoi(f[11])
		st, _ := strconv.Atoi(f[12])
		procs[pid] = procStat{ppid, time.Duration(ut+st) * time.Second / userHZ}
	}
	return procs
}

// below reports whether pid descends from root.
func below(procs map[int]procStat, pid, root int) bool {
	for q := procs[pid].ppid; q != 0; q = procs[q].ppid {
		if q == root {
			return true
		}
		if _, ok := procs[q]; !ok {
			return false
		}
	}
	return false
}

// descendants lists the processes below root.
func descendants(root int) []int {
	procs := readProcs()
	var out []int
	for pid := range procs {
		if below(procs, pid, root) {
			out = append(out, pid)
		}
	}
	return out
}

// treeCPU sums the CPU time of root and its descendants. Processes that
// exited in between are not counted, alike for every side of a comparison.
func treeCPU(root int) time.Duration {
	if root == 0 {
		return 0
	}
	procs := readProcs()
	total := procs[root].cpu
	for pid, p := range procs {
		if below(procs, pid, root) {
			total += p.cpu
		}
	}
	return total
}
