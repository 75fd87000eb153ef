package runner

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procStat is what the tests need of a process: its parent.
type procStat struct {
	ppid int
}

// readProcs reads every process's parent from /proc.
func readProcs() map[int]procStat {
	procs := map[int]procStat{}
	ents, _ := os.ReadDir("/proc")
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
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		procs[pid] = procStat{ppid}
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
