package fleet_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/fleet"
	"github.com/uxprobe/uxprobe/agent/pgtest"
)

// BenchmarkClaimPerRun is what a fleet adds to each scheduled run: per
// tick of a flow on two devices, one statement marks the previous slots
// that no agent ran and each device claims its slot. One op is one run.
func BenchmarkClaimPerRun(b *testing.B) {
	for _, agents := range []int{1, 3} {
		b.Run(fmt.Sprintf("agents=%d", agents), func(b *testing.B) {
			fl := openFleet(b, pgtest.URL(b), agents)
			ctx := context.Background()
			devices := []string{"desktop", "mobile"}
			base := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
			// The tables and a connection of each pool exist before the
			// clock starts, as in an agent that has run a while.
			for _, a := range fl {
				if _, err := a.Claim(ctx, fleet.Slot{Flow: "warm-up", Device: a.Agent(), At: base}); err != nil {
					b.Fatal(err)
				}
				if _, err := a.MarkMissed(ctx, []fleet.Slot{{Flow: "warm-up", Device: a.Agent(), At: base}}); err != nil {
					b.Fatal(err)
				}
			}
			before := make([]int64, len(fl))
			for i, a := range fl {
				before[i] = a.Queries()
			}
			b.ResetTimer()
			var runs atomic.Int64
			for i := 0; runs.Load() < int64(b.N); i++ {
				at := base.Add(time.Duration(i) * time.Minute)
				// Every agent of the location ticks; the first claim of
				// each device wins.
				var wg sync.WaitGroup
				for _, a := range fl {
					wg.Go(func() {
						var prev []fleet.Slot
						for _, d := range devices {
							prev = append(prev, fleet.Slot{Location: "eu", Flow: "checkout", Device: d, At: at.Add(-time.Minute)})
						}
						if _, err := a.MarkMissed(ctx, prev); err != nil {
							b.Error(err)
						}
						for _, d := range devices {
							won, err := a.Claim(ctx, fleet.Slot{Location: "eu", Flow: "checkout", Device: d, At: at})
							if err != nil {
								b.Error(err)
							}
							if won {
								runs.Add(1)
							}
						}
					})
				}
				wg.Wait()
			}
			b.StopTimer()
			var q int64
			for i, a := range fl {
				q += a.Queries() - before[i]
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(runs.Load()), "ms/run")
			b.ReportMetric(float64(q)/float64(runs.Load()), "queries/run")
		})
	}
}

// Sizes of BenchmarkFleetSimulation.
const (
	simAgents = 10
	simFlows  = 10000
	// simChunk is the flows of one op: ten ops make one slot of every flow.
	simChunk = 1000
	// simWorkers is the claims an agent makes at once: its browser slots,
	// as many as its pool's connections.
	simWorkers = 4
)

// BenchmarkFleetSimulation runs ten agents over 10,000 flows without
// Chrome: in each slot every agent tries to claim every flow in an order of
// its own (as ticks race), simWorkers at a time, and runs what it wins in
// no time. It reports the claim statements per second the database took,
// the runs per second that gives, and how evenly the runs spread over the
// agents (the fewest and the most runs of an agent, as a share of a tenth).
func BenchmarkFleetSimulation(b *testing.B) {
	fl := make([]*fleet.Postgres, simAgents)
	url := pgtest.URL(b)
	for i := range fl {
		p, err := fleet.Open(url, fleet.Options{Agent: fmt.Sprintf("a%d", i), MaxConns: simWorkers})
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		fl[i] = p
	}
	ctx := context.Background()
	// Create the tables before the clock starts.
	if _, err := fl[0].Claim(ctx, fleet.Slot{Flow: "warm-up", Device: "desktop", At: time.Unix(0, 0)}); err != nil {
		b.Fatal(err)
	}
	won := make([]atomic.Int64, simAgents)
	var attempts atomic.Int64
	base := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for i := range b.N {
		at := base.Add(time.Duration(i*simChunk/simFlows) * time.Minute)
		first := i * simChunk % simFlows
		var wg sync.WaitGroup
		for ai, a := range fl {
			order := rand.Perm(simChunk)
			next := atomic.Int64{}
			for range simWorkers {
				wg.Go(func() {
					for {
						j := int(next.Add(1)) - 1
						if j >= simChunk {
							return
						}
						s := fleet.Slot{Location: "eu", Flow: fmt.Sprintf("flow-%05d", first+order[j]), Device: "desktop", At: at}
						ok, err := a.Claim(ctx, s)
						if err != nil {
							b.Error(err)
							return
						}
						attempts.Add(1)
						if ok {
							won[ai].Add(1)
						}
					}
				})
			}
		}
		wg.Wait()
	}
	b.StopTimer()
	var runs int64
	counts := make([]int64, simAgents)
	for i := range won {
		counts[i] = won[i].Load()
		runs += counts[i]
	}
	if runs != int64(b.N*simChunk) {
		b.Fatalf("%d runs for %d slots: a slot ran twice or not at all", runs, b.N*simChunk)
	}
	secs := b.Elapsed().Seconds()
	fair := float64(runs) / simAgents
	b.ReportMetric(float64(attempts.Load())/secs, "claims/s")
	b.ReportMetric(float64(runs)/secs, "runs/s")
	b.ReportMetric(float64(slices.Min(counts))/fair*100, "min-agent-%")
	b.ReportMetric(float64(slices.Max(counts))/fair*100, "max-agent-%")
}
