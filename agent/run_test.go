package agent

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

type nilRunner struct{}

func (nilRunner) Run(context.Context, *scenarios.Flow, scenarios.Device) *result.Result { return nil }

// TestStandInResultHasTheRunnersShape: the result the agent records for a
// runner that gave none or panicked has the same JSON shape as a runner's:
// lists are [], never null, and times carry no float noise.
func TestStandInResultHasTheRunnersShape(t *testing.T) {
	f := &scenarios.Flow{Name: "f"}
	d := scenarios.Device{Name: "desktop", Class: "desktop"}
	for name, r := range map[string]Runner{"nil": nilRunner{}, "panic": panicRunner{}} {
		t.Run(name, func(t *testing.T) {
			res := runSafely(context.Background(), r, f, d, slog.New(slog.DiscardHandler))
			b, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			if s := string(b); strings.Contains(s, "null") || !strings.Contains(s, `"findings":[]`) || !strings.Contains(s, `"dialogs":[]`) {
				t.Errorf("stand-in result %s: want every list as []", s)
			}
			if res.Outcome() != result.OutcomeError {
				t.Errorf("outcome %s, want error", res.Outcome())
			}
		})
	}
}
