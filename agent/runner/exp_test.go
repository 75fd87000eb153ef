package runner

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/demoshop"
	"github.com/uxprobe/uxprobe/scenarios"
	"github.com/uxprobe/uxprobe/scenarios/examples"
)

func TestExpSteps(t *testing.T) {
	srv := httptest.NewServer(demoshop.New())
	defer srv.Close()
	flows, _ := scenarios.LoadFS(examples.FS, scenarios.LoadOptions{Vars: map[string]string{"base_url": srv.URL}})
	r := &Runner{Browser: testBrowser}
	for _, f := range flows {
		if f.Name != "search" {
			continue
		}
		for i := 0; i < 4; i++ {
			t0 := time.Now()
			res := r.Run(context.Background(), f, f.Devices[0])
			tot := time.Since(t0)
			var sum float64
			line := ""
			for _, s := range res.Steps {
				sum += s.DurationSeconds
				line += " " + s.Name + "=" + time.Duration(s.DurationSeconds*1e9).Round(time.Millisecond).String()
			}
			t.Logf("total=%v result=%.3f steps=%.3f %s", tot.Round(time.Millisecond), res.DurationSeconds, sum, line)
			time.Sleep(300 * time.Millisecond)
		}
	}
}
