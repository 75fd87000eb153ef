package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/uxprobe/uxprobe/exporters/remotewrite"
)

// remoteWriteFlags are --remote-write.*: pushing /metrics for agents that
// Prometheus cannot scrape.
type remoteWriteFlags struct {
	url      string
	interval time.Duration
}

func (f *remoteWriteFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "remote-write.url", "",
		"push the series of /metrics with the Prometheus remote write protocol (1.0) to this URL, e.g. http://prometheus:9090/api/v1/write (Prometheus started with --web.enable-remote-write-receiver, Mimir, Thanos, VictoriaMetrics), for an agent that Prometheus cannot scrape; a user:password@ in the URL is sent as basic auth and never logged; the series get job=\"uxprobe\" and instance=<host name>, as a scrape would add; empty pushes nothing")
	fs.DurationVar(&f.interval, "remote-write.interval", remotewrite.DefaultInterval,
		"how often --remote-write.url is pushed to; each push sends the current values, as a scrape would read them")
}

// start returns the pusher's loop for the agent's errgroup, or nil without
// --remote-write.url.
func (f *remoteWriteFlags) start(g prometheus.Gatherer, log *slog.Logger) (func(ctx context.Context) error, error) {
	if f.url == "" {
		return nil, nil
	}
	if f.interval <= 0 {
		return nil, fmt.Errorf("--remote-write.interval %s: want a positive duration", f.interval)
	}
	instance, err := os.Hostname()
	if err != nil || instance == "" {
		instance = "uxprobe"
	}
	p, err := remotewrite.New(f.url, g, remotewrite.Options{
		Labels:   map[string]string{"job": "uxprobe", "instance": instance},
		Interval: f.interval,
		Logger:   log,
	})
	if err != nil {
		return nil, fmt.Errorf("--remote-write.url: %w", err)
	}
	log.Info("pushing metrics by remote write", "url", p.URL(), "interval", f.interval)
	return p.Run, nil
}
