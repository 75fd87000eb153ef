package history

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// MetricStorageErrors counts the store's failures.
const MetricStorageErrors = "uxprobe_storage_errors_total"

// Health counts the store's errors and remembers the last one, for
// uxprobe_storage_errors_total and /-/ready. Give its Failed to
// Options.OnError, and call it when Open fails. It is safe for concurrent
// use.
type Health struct {
	errors *prometheus.CounterVec

	mu   sync.Mutex
	last error
	at   time.Time
	ok   time.Time
}

// The operations of uxprobe_storage_errors_total.
var healthOps = []string{"open", "write", "read", "prune"}

// NewHealth registers uxprobe_storage_errors_total on reg, every operation
// at 0.
func NewHealth(reg prometheus.Registerer) (*Health, error) {
	h := &Health{errors: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricStorageErrors,
		Help: "Failures of the run history (--storage.path) by operation: open, write, read, prune. Runs and metrics go on without it; /-/ready says why.",
	}, []string{"operation"})}
	for _, op := range healthOps {
		h.errors.WithLabelValues(op)
	}
	if err := reg.Register(h.errors); err != nil {
		return nil, err
	}
	return h, nil
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

// Last returns the last error and when it happened, nil when the store has
// worked since.
func (h *Health) Last() (error, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last, h.at
}
