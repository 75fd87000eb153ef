package main

import (
	"context"

	"github.com/uxprobe/uxprobe/agent/result"
	promexp "github.com/uxprobe/uxprobe/exporters/prometheus"
)

// pushResults is a variable so that tests of check can see what it pushes.
var pushResults = func(ctx context.Context, url, job string, results []*result.Result) error {
	return promexp.Push(ctx, url, job, results)
}
