package runner

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func BenchmarkTabParts(b *testing.B) {
	var tNew, tClose time.Duration
	for b.Loop() {
		t0 := time.Now()
		tab, err := testBrowser.NewTab(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		_ = chromedp.FromContext(tab.Ctx)
		tab.Close()
		t2 := time.Now()
		tNew += t1.Sub(t0)
		tClose += t2.Sub(t1)
	}
	b.ReportMetric(float64(tNew.Milliseconds())/float64(b.N), "new-ms")
	b.ReportMetric(float64(tClose.Milliseconds())/float64(b.N), "close-ms")
}
