package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/agent/runner"
	"github.com/uxprobe/uxprobe/scenarios"
)

// exportTimeout bounds one export, so that a Pushgateway that does not
// answer cannot hold a run's slot, or the end of a check, for ever.
const exportTimeout = 30 * time.Second

// slots is the concurrency limit of runs, shared by the scheduler and
// RunOnce: each run holds one slot, so that at most cap(slots) tabs work at
// once however many flows are due.
type slots chan struct{}

func newSlots(n int) slots { return make(slots, n) }

// acquire waits for a free slot until stop or cancel is closed (a nil
// channel never is). It reports how long it waited, and false when it gave
// up without a slot.
func (s slots) acquire(stop, cancel <-chan struct{}) (time.Duration, bool) {
	start := time.Now()
	select {
	case s <- struct{}{}:
		return time.Since(start), true
	case <-stop:
	case <-cancel:
	}
	return time.Since(start), false
}

func (s slots) release() { <-s }

// hold is a run's slot, held from acquire: it returns the run's context,
// with which the run frees the slot as its task is over and only the final
// read of its last page is left (runner.WithTaskDone), and free, which
// frees it if the run did not. So the next run starts while the last one
// waits for its page's last frames.
func (s slots) hold(ctx context.Context) (context.Context, func()) {
	var once sync.Once
	free := func() { once.Do(s.release) }
	return runner.WithTaskDone(ctx, free), free
}

// runSafely runs the Runner and makes sure there is a result: a Runner that
// panics or returns nil is our bug, recorded as an error run rather than
// taking the agent down.
func runSafely(ctx context.Context, r Runner, f *scenarios.Flow, d scenarios.Device, log *slog.Logger) *result.Result {
	res, _ := guarded(f, d, log, func() *result.Result { return r.Run(ctx, f, d) })
	return res
}

// guarded is runSafely for any call that runs the flow. none reports that
// run returned nil without panicking, which LoginRunner.RunLogin may mean;
// the result is then the error run all the same.
func guarded(f *scenarios.Flow, d scenarios.Device, log *slog.Logger, run func() *result.Result) (res *result.Result, none bool) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			log.Error("runner panicked", "flow", f.Name, "device", d.Name, "panic", p)
			res, none = nil, false
		}
		if res == nil {
			res = result.New(f.Name, d, start)
			res.DurationSeconds = time.Since(start).Seconds()
			res.Error = &result.Error{Kind: scenarios.KindBrowser, Message: "uxprobe's runner gave no result (a bug of uxprobe)"}
			res.RoundTimes()
		}
	}()
	res = run()
	return res, res == nil
}

// namedExporter is an exporter with the name its errors are counted under.
type namedExporter struct {
	name string
	Exporter
	errors interface{ Inc() } // uxprobe_export_errors_total{exporter=name}
}

// nameExporters names the exporters and starts their error counters at 0.
func nameExporters(exps []Exporter, m *metrics) []namedExporter {
	out := make([]namedExporter, 0, len(exps))
	for _, e := range exps {
		if e == nil {
			continue
		}
		name := exporterName(e)
		out = append(out, namedExporter{name: name, Exporter: e, errors: m.exportErrors.WithLabelValues(name)})
	}
	return out
}

// exportAll gives the result to every exporter, in order. An exporter that
// fails or panics is logged and counted, and the others still get the
// result; the errors are returned for callers that report them, such as
// `uxprobe check`.
func exportAll(ctx context.Context, exps []namedExporter, r *result.Result, log *slog.Logger) error {
	var errs []error
	for _, e := range exps {
		if err := exportOne(ctx, e, r); err != nil {
			e.errors.Inc()
			log.Error("exporting a result failed", "exporter", e.name, "flow", r.Flow, "device", r.Device, "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func exportOne(ctx context.Context, e namedExporter, r *result.Result) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &exportPanic{name: e.name, value: p}
		}
	}()
	return e.Export(ctx, r)
}

type exportPanic struct {
	name  string
	value any
}

func (p *exportPanic) Error() string {
	return fmt.Sprintf("exporter %s panicked: %v", p.name, p.value)
}
