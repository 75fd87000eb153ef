package history

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The history's metrics.
const (
	MetricStorageErrors  = "uxprobe_storage_errors_total"
	MetricStorageDropped = "uxprobe_storage_dropped_total"
	MetricStorageQueued  = "uxprobe_storage_queued_runs"
)

// Health counts the store's errors and remembers the last one, for
// uxprobe_storage_errors_total and /-/ready, and counts the runs the queue
// holds and drops. Give its methods to Options (see Options), and call
// Failed when Open fails. It is safe for concurrent use.
type Health struct {
	errors  *prometheus.CounterVec
	dropped prometheus.Counter
	queued  prometheus.Gauge

	mu      sync.Mutex
	last    error
	at      time.Time
	ok      time.Time
	waiting int
}

// The operations of uxprobe_storage_errors_total.
var healthOps = []string{"open", "write", "read", "prune", "recover"}

// NewHealth registers the history's metrics on reg, every operation at 0.
func NewHealth(reg prometheus.Registerer) (*Health, error) {
	h := &Health{
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricStorageErrors,
			Help: "Failures of the run history (--storage.path or --storage.url) by operation: open, write, read, prune, recover (a damaged SQLite file moved aside). Runs and metrics go on without it; /-/ready says why.",
		}, []string{"operation"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricStorageDropped,
			Help: "Runs dropped, oldest first, from the full queue of runs waiting for a run history that does not answer: they are in the metrics, not in the history.",
		}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: MetricStorageQueued,
			Help: "Runs waiting in memory for a run history that does not answer, written when it answers again.",
		}),
	}
	for _, op := range healthOps {
		h.errors.WithLabelValues(op)
	}
	for _, c := range []prometheus.Collector{h.errors, h.dropped, h.queued} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Options sets the store options that report to h.
func (h *Health) Options(o *Options) {
	o.OnError, o.OnWrite, o.OnQueue, o.OnDrop = h.Failed, h.Succeeded, h.Queued, h.Dropped
}

// Failed counts an error of the operation.
func (h *Health) Failed(op string, err error) {
	h.errors.WithLabelValues(op).Inc()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last, h.at = err, time.Now()
}

// Succeeded clears the last error: a write went through again.
func (h *Health) Succeeded() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last, h.ok = nil, time.Now()
}

// Queued sets the number of runs waiting for the store.
func (h *Health) Queued(n int) {
	h.queued.Set(float64(n))
	h.mu.Lock()
	defer h.mu.Unlock()
	h.waiting = n
}

// Dropped counts a run dropped from the full queue.
func (h *Health) Dropped() { h.dropped.Inc() }

// Last returns the last error and when it happened, nil when the store has
// worked since.
func (h *Health) Last() (error, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last, h.at
}

// Waiting is the number of runs waiting for the store.
func (h *Health) Waiting() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.waiting
}
