package agent

import (
	"context"
	"log/slog"
	"time"

	"github.com/uxprobe/uxprobe/agent/result"
)

// record keeps the result if its flow version is still the current one and
// still runs on the device: a replaced or removed flow's late result would
// bring back series that a reload just removed.
func (a *Agent) record(e *entry, res *result.Result) {
	if len(a.history) > 0 && a.isCurrent(e, res.Device) {
		// Committed before the store shows it; outside mu, since a commit
		// waits for the disk.
		ctx, cancel := context.WithTimeout(context.Background(), exportTimeout)
		_ = exportAll(ctx, a.history, res, a.log)
		cancel()
	}
	a.mu.Lock()
	kept := a.currentLocked(e, res.Device) && a.store.put(res)
	a.mu.Unlock()
	if !kept {
		a.log.Debug("dropping the result of a replaced or removed flow", "flow", e.flow.Name, "device", res.Device)
		return
	}
	logRun(a.log, res)
	// Outside mu: an exporter may take its time (a file, a network push)
	// and must not hold up scheduling or reloads. A flow removed meanwhile
	// can reach an exporter once more; the collector renders only what the
	// store still has, so its series do not come back.
	ctx, cancel := context.WithTimeout(context.Background(), exportTimeout)
	defer cancel()
	exportAll(ctx, a.exporters, res, a.log)
}

func (a *Agent) isCurrent(e *entry, device string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.currentLocked(e, device)
}

// currentLocked reports whether e is still the flow's version and still runs
// on the device. Called with mu held.
func (a *Agent) currentLocked(e *entry, device string) bool {
	_, onDevice := e.flow.Device(device)
	return a.entries[e.flow.Name] == e && onDevice
}

func logRun(log *slog.Logger, r *result.Result) {
	attrs := []any{"flow", r.Flow, "device", r.Device, "duration", time.Duration(r.DurationSeconds * float64(time.Second)).Round(time.Millisecond)}
	if r.Error != nil {
		attrs = append(attrs, "step", r.Error.Step, "kind", r.Error.Kind, "err", r.Error.Message)
	}
	switch r.Outcome() {
	case result.OutcomeSuccess:
		log.Debug("run succeeded", attrs...)
	case result.OutcomeFailure:
		log.Info("run failed", attrs...)
	default:
		log.Warn("run ended in an error of uxprobe or Chrome", attrs...)
	}
}
