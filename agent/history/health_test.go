package history

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestHealth(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, err := NewHealth(reg)
	if err != nil {
		t.Fatal(err)
	}
	want := func(text string, names ...string) {
		t.Helper()
		if err := testutil.GatherAndCompare(reg, strings.NewReader(text), names...); err != nil {
			t.Error(err)
		}
	}
	const head = "# HELP uxprobe_storage_errors_total Failures of the run history (--storage.path or --storage.url) by operation: open, write, read, prune, recover (a damaged SQLite file moved aside). Runs and metrics go on without it; /-/ready says why.\n# TYPE uxprobe_storage_errors_total counter\n"
	errs := func(write, recover int) string {
		return head + "uxprobe_storage_errors_total{operation=\"open\"} 0\nuxprobe_storage_errors_total{operation=\"prune\"} 0\nuxprobe_storage_errors_total{operation=\"read\"} 0\n" +
			"uxprobe_storage_errors_total{operation=\"recover\"} " + string(rune('0'+recover)) + "\nuxprobe_storage_errors_total{operation=\"write\"} " + string(rune('0'+write)) + "\n"
	}
	want(errs(0, 0), MetricStorageErrors)
	if err, _ := h.Last(); err != nil {
		t.Errorf("Last = %v before any error", err)
	}
	h.Failed("write", errors.New("disk full"))
	h.Failed("write", errors.New("disk full"))
	h.Failed("recover", errors.New("not a database"))
	want(errs(2, 1), MetricStorageErrors)
	if err, at := h.Last(); err == nil || err.Error() != "not a database" || at.IsZero() {
		t.Errorf("Last = %v, %v", err, at)
	}
	h.Succeeded()
	if err, _ := h.Last(); err != nil {
		t.Errorf("Last = %v after a success", err)
	}

	var o Options
	h.Options(&o)
	o.OnQueue(3)
	o.OnDrop()
	o.OnDrop()
	if h.Waiting() != 3 {
		t.Errorf("Waiting = %d, want 3", h.Waiting())
	}
	want(`# HELP uxprobe_storage_dropped_total Runs dropped, oldest first, from the full queue of runs waiting for a run history that does not answer: they are in the metrics, not in the history.
# TYPE uxprobe_storage_dropped_total counter
uxprobe_storage_dropped_total 2
# HELP uxprobe_storage_queued_runs Runs waiting in memory for a run history that does not answer, written when it answers again.
# TYPE uxprobe_storage_queued_runs gauge
uxprobe_storage_queued_runs 3
`, MetricStorageDropped, MetricStorageQueued)
}
