package junit

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileWriterMatchesWrite: after each result the file is the report of
// every result so far, the same bytes Write gives.
func TestFileWriterMatchesWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.xml")
	w := NewFileWriter(path)
	if w.Name() != "junit" {
		t.Errorf("Name() = %q", w.Name())
	}
	results := reportResults()
	for i, r := range results {
		if err := w.Export(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := Write(&want, results[:i+1]); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("after %d results the file differs from Write:\n%s", i+1, got)
		}
	}
}

func TestFileWriterError(t *testing.T) {
	w := NewFileWriter(filepath.Join(t.TempDir(), "no-such-dir", "report.xml"))
	err := w.Export(context.Background(), reportResults()[0])
	if err == nil || !strings.Contains(err.Error(), "no-such-dir") {
		t.Fatalf("error %v, want one naming the path", err)
	}
}
