package agent

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/scenarios"
)

func hundredFlows(b *testing.B) []scenarios.FileResult {
	var files []scenarios.FileResult
	for i := range 100 {
		name := fmt.Sprintf("flow-%03d", i)
		files = append(files, fileResult(name+".yaml", testFlow(b, name, "@every 1m", "desktop", "mobile")))
	}
	return files
}

// BenchmarkAgentMemory reports the heap in use with 100 flows on 2 devices
// loaded and scheduled (and run once each through a fake runner).
func BenchmarkAgentMemory(b *testing.B) {
	files := hundredFlows(b)
	var heap, delta uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		runner := newFakeRunner(0)
		a, err := New(Options{Runner: runner, Splay: 100 * time.Millisecond, MaxConcurrency: 4})
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Apply(files); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		for len(a.Results()) < 200 {
			time.Sleep(10 * time.Millisecond)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapInuse
		delta = after.HeapInuse - min(before.HeapInuse, after.HeapInuse)
		cancel()
		<-done
	}
	b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(residentBytes())/(1<<20), "rss-MiB")
	b.ReportMetric(float64(delta)/(1<<20), "agent-heap-MiB")
}

// residentBytes is the process's resident set (VmRSS): what the agent
// costs the machine, Go runtime and all, without Chrome, which is a
// process of its own.
func residentBytes() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkSplaySpread reports how 100 flows on one schedule spread over a
// one-minute splay: the median and largest offset, and the smallest gap
// between two flows' start times.
func BenchmarkSplaySpread(b *testing.B) {
	offsets := make([]time.Duration, 100)
	for b.Loop() {
		for i := range offsets {
			offsets[i] = SplayOffset(fmt.Sprintf("flow-%03d", i), time.Minute)
		}
	}
	slices.Sort(offsets)
	gap := time.Minute
	for i := 1; i < len(offsets); i++ {
		gap = min(gap, offsets[i]-offsets[i-1])
	}
	b.ReportMetric(offsets[len(offsets)/2].Seconds(), "p50-offset-s")
	b.ReportMetric(offsets[len(offsets)-1].Seconds(), "max-offset-s")
	b.ReportMetric(gap.Seconds(), "min-gap-s")
}
