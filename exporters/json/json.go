// Package json writes run results to a file as a JSON array of
// result.Result, the format of `uxprobe check --json` and of
// /api/v1/results.
package json

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/uxprobe/uxprobe/agent/result"
)

// Writer is an agent Exporter that keeps a file holding every result it was
// given, in the order given. The file is rewritten on each result, so that
// it holds what finished even when a check is interrupted. It is safe for
// concurrent use.
type Writer struct {
	path string

	mu      sync.Mutex
	results []*result.Result
}

// New returns a writer to the file at path. Nothing is written before the
// first result.
func New(path string) *Writer { return &Writer{path: path} }

// Name is the writer's value of the agent's exporter label.
func (*Writer) Name() string { return "json" }

// Export implements the agent's Exporter.
func (w *Writer) Export(_ context.Context, r *result.Result) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.results = append(w.results, r)
	data, err := Marshal(w.results)
	if err != nil {
		return err
	}
	// Written in place rather than renamed over: the path may be a pipe
	// or /dev/stdout, which a rename would replace.
	if err := os.WriteFile(w.path, data, 0o644); err != nil {
		return fmt.Errorf("writing JSON results: %w", err)
	}
	return nil
}

// Marshal renders results as the indented JSON array of the file, ending in
// a newline; no results give [].
func Marshal(results []*result.Result) ([]byte, error) {
	if results == nil {
		results = []*result.Result{}
	}
	data, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
