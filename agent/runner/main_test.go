package runner

import (
	"fmt"
	"os"
	"testing"

	"github.com/uxprobe/uxprobe/agent/browser"
)

// testBrowser is shared by the package's tests, as chromedp's own tests
// share one: starting Chrome per test would dominate the suite's time.
var testBrowser *browser.Browser

func TestMain(m *testing.M) {
	b, err := browser.Start(browser.Options{NoSandbox: os.Geteuid() == 0, WarmTabs: 1})
	if err != nil {
		fmt.Fprintln(os.Stderr, "runner tests need Chrome:", err)
		os.Exit(1)
	}
	testBrowser = b
	code := m.Run()
	if err := b.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "closing Chrome:", err)
	}
	os.Exit(code)
}
