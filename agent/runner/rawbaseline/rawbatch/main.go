// Command rawbatch is the whole-process baseline of cmd/uxprobe's
// BenchmarkBatchVsRawChromedp: a raw chromedp program that starts Chrome,
// runs one flow of the demo shop N times in a row (each in a new browser
// context) and exits, as `uxprobe check` does with N flow files. It is a
// program, not a function, so that what each side costs to start and to
// exit (the Go runtime, Chrome's start and shutdown) is measured too. Not
// part of uxprobe.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/uxprobe/uxprobe/agent/runner/rawbaseline"
)

func main() {
	url := flag.String("url", "", "the demo shop's base URL, e.g. http://127.0.0.1:8080")
	flow := flag.String("flow", "search", "the flow: search or checkout")
	dev := flag.String("device", "desktop", "the device: desktop or mobile")
	runs := flag.Int("runs", 1, "how many runs, one after another")
	path := flag.String("browser", "", "Chrome binary; empty is what chromedp finds on PATH")
	flag.Parse()
	if *url == "" || *runs < 1 {
		fmt.Fprintln(os.Stderr, "rawbatch: give -url and -runs of at least 1")
		os.Exit(2)
	}
	if err := batch(*path, *url, *flow, *dev, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "rawbatch:", err)
		os.Exit(1)
	}
}

func batch(path, url, flow, dev string, runs int) error {
	b, err := rawbaseline.Start(path)
	if err != nil {
		return err
	}
	defer b.Close()
	for i := range runs {
		if err := b.Run(url, flow, dev); err != nil {
			return fmt.Errorf("run %d of %s on %s: %w", i+1, flow, dev, err)
		}
	}
	return nil
}
