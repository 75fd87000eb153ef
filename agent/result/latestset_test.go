package result

import (
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/scenarios"
)

func TestLatestSet(t *testing.T) {
	desktop, _ := scenarios.LookupDevice("desktop")
	mobile, _ := scenarios.LookupDevice("mobile")
	both := []*scenarios.Flow{
		{Name: "search", Devices: []scenarios.Device{mobile, desktop}},
		{Name: "checkout", Devices: []scenarios.Device{desktop}},
	}
	var s LatestSet
	if s.Put(&Result{Flow: "search", Device: "desktop", Success: true}) {
		t.Fatal("a run was kept before its flow was loaded")
	}
	s.Sync(both)
	if !s.Put(&Result{Flow: "search", Device: "desktop", Success: true}) {
		t.Fatal("a run of a loaded flow was not kept")
	}
	var order []string
	for _, l := range s.Latest() {
		order = append(order, l.Flow+"/"+l.Device)
	}
	if want := "checkout/desktop search/desktop search/mobile"; strings.Join(order, " ") != want {
		t.Errorf("order %q, want %q", strings.Join(order, " "), want)
	}
	s.Sync(both[1:]) // search removed
	if got := len(s.Latest()); got != 1 {
		t.Errorf("%d kept after search was removed, want 1", got)
	}
	if s.Put(&Result{Flow: "search", Device: "desktop"}) {
		t.Error("a late run of a removed flow brought it back")
	}
}
