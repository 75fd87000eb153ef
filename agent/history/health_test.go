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
	want := func(text string) {
		t.Helper()
		if err := testutil.GatherAndCompare(reg, strings.NewReader(text), MetricStorageErrors); err != nil {
			t.Error(err)
		}
	}
	const head = "# HELP uxprobe_storage_errors_total Failures of the run history (--storage.path) by operation: open, write, read, prune. Runs and metrics go on without it; /-/ready says why.\n# TYPE uxprobe_storage_errors_total counter\n"
	want(head + "uxprobe_storage_errors_total{operation=\"open\"} 0\nuxprobe_storage_errors_total{operation=\"prune\"} 0\nuxprobe_storage_errors_total{operation=\"read\"} 0\nuxprobe_storage_errors_total{operation=\"write\"} 0\n")
	if err, _ := h.Last(); err != nil {
		t.Errorf("Last = %v before any error", err)
	}
	h.Failed("write", errors.New("disk full"))
	h.Failed("write", errors.New("disk full"))
	want(head + "uxprobe_storage_errors_total{operation=\"open\"} 0\nuxprobe_storage_errors_total{operation=\"prune\"} 0\nuxprobe_storage_errors_total{operation=\"read\"} 0\nuxprobe_storage_errors_total{operation=\"write\"} 2\n")
	if err, at := h.Last(); err == nil || err.Error() != "disk full" || at.IsZero() {
		t.Errorf("Last = %v, %v", err, at)
	}
	h.Succeeded()
	if err, _ := h.Last(); err != nil {
		t.Errorf("Last = %v after a success", err)
	}
}
