package junit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/uxprobe/uxprobe/agent/result"
)

// FileWriter is an agent Exporter that keeps a JUnit report file of every
// result it was given, in the order given (suites in the order their flows
// first appear). The file is rewritten on each result, so that it holds what
// finished even when a check is interrupted. It is safe for concurrent use.
type FileWriter struct {
	path string

	mu      sync.Mutex
	results []*result.Result
}

// NewFileWriter returns a writer of the report at path. Nothing is written
// before the first result.
func NewFileWriter(path string) *FileWriter { return &FileWriter{path: path} }

// Name is the writer's value of the agent's exporter label.
func (*FileWriter) Name() string { return "junit" }

// Export implements the agent's Exporter.
func (w *FileWriter) Export(_ context.Context, r *result.Result) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.results = append(w.results, r)
	var b bytes.Buffer
	if err := Write(&b, w.results); err != nil {
		return fmt.Errorf("writing the JUnit report: %w", err)
	}
	if err := os.WriteFile(w.path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing the JUnit report: %w", err)
	}
	return nil
}
