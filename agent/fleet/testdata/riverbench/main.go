// A measurement of riverqueue/river for uxprobe's fleet, to set beside
// BenchmarkFleetSimulation: ten agents over 10,000 flows, each agent
// inserting every slot as a unique job (as every agent computes the slots),
// then ten clients working them, four at a time. A module of its own, so
// that river is no dependency of uxprobe:
//
//	cd agent/fleet/testdata/riverbench && go run . postgres://postgres@127.0.0.1:5432/rb?sslmode=disable
package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

type SlotArgs struct {
	Location string    `json:"location" river:"unique"`
	Flow     string    `json:"flow" river:"unique"`
	Device   string    `json:"device" river:"unique"`
	Slot     time.Time `json:"slot" river:"unique"`
}

func (SlotArgs) Kind() string { return "slot" }
func (SlotArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: "eu", UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type SlotWorker struct {
	river.WorkerDefaults[SlotArgs]
	won  *atomic.Int64
	done *atomic.Int64
}

func (w *SlotWorker) Work(ctx context.Context, job *river.Job[SlotArgs]) error {
	w.won.Add(1)
	w.done.Add(1)
	return nil
}

const (
	agents  = 10
	flows   = 10000
	workers = 4
)

func main() {
	ctx := context.Background()
	url := os.Args[1]
	admin, err := pgxpool.New(ctx, url)
	must(err)
	m, err := rivermigrate.New(riverpgxv5.New(admin), nil)
	must(err)
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	must(err)

	won := make([]atomic.Int64, agents)
	var done atomic.Int64
	var cs []*river.Client[pgx.Tx]
	for i := range agents {
		cfg, _ := pgxpool.ParseConfig(url)
		cfg.MaxConns = workers + 2
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		must(err)
		ws := river.NewWorkers()
		river.AddWorker(ws, &SlotWorker{won: &won[i], done: &done})
		c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
			Queues:            map[string]river.QueueConfig{"eu": {MaxWorkers: workers}},
			Workers:           ws,
			FetchCooldown:     50 * time.Millisecond,
			FetchPollInterval: 200 * time.Millisecond,
			ID:                fmt.Sprintf("a%d", i),
		})
		must(err)
		cs = append(cs, c)
	}
	slot := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

	// Phase 1: inserts only (clients not started): every agent inserts
	// every flow's slot, four at a time, as a tick would.
	var attempts, inserted atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for i := range agents {
		order := rand.Perm(flows)
		var next atomic.Int64
		for range workers {
			wg.Go(func() {
				for {
					j := int(next.Add(1)) - 1
					if j >= flows {
						return
					}
					res, err := cs[i].Insert(ctx, SlotArgs{Location: "eu", Flow: fmt.Sprintf("flow-%05d", order[j]), Device: "desktop", Slot: slot}, nil)
					must(err)
					attempts.Add(1)
					if !res.UniqueSkippedAsDuplicate {
						inserted.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	insertSecs := time.Since(start).Seconds()
	fmt.Printf("river unique inserts: %d attempts, %d jobs in %.2fs: %.0f inserts/s\n", attempts.Load(), inserted.Load(), insertSecs, float64(attempts.Load())/insertSecs)

	// Phase 2: the ten clients work the jobs.
	start = time.Now()
	for _, c := range cs {
		must(c.Start(ctx))
	}
	for done.Load() < inserted.Load() {
		time.Sleep(10 * time.Millisecond)
	}
	workSecs := time.Since(start).Seconds()
	counts := make([]int64, agents)
	for i := range won {
		counts[i] = won[i].Load()
	}
	fair := float64(inserted.Load()) / agents
	fmt.Printf("river work: %d jobs in %.2fs: %.0f jobs/s; spread %.0f%%..%.0f%% of a tenth\n", done.Load(), workSecs, float64(done.Load())/workSecs,
		float64(slices.Min(counts))/fair*100, float64(slices.Max(counts))/fair*100)
	fmt.Printf("river end to end: %.0f runs/s\n", float64(done.Load())/(insertSecs+workSecs))
	for _, c := range cs {
		_ = c.Stop(ctx)
	}
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
