package deploy_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// maxGoFileLines bounds a non-test Go file: past it, a file holds more
// than one job and should be split by job, as the flow loader was.
const maxGoFileLines = 600

// goFiles lists the module's Go files, relative to its root.
func goFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "..") {
			return fs.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("found only %d Go files", len(files))
	}
	return files
}

func TestNoLargeGoFiles(t *testing.T) {
	for _, path := range goFiles(t) {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(data), "\n"); n > maxGoFileLines {
			t.Errorf("%s has %d lines, more than %d: split it by job", path, n, maxGoFileLines)
		}
	}
}

// TestNothingImportsCmd: cmd/ wires the parts together; a library package
// that imports it would depend on the command line.
func TestNothingImportsCmd(t *testing.T) {
	const cmdPrefix = "github.com/uxprobe/uxprobe/cmd/"
	for _, path := range goFiles(t) {
		rel, _ := filepath.Rel("..", path)
		if strings.HasPrefix(filepath.ToSlash(rel), "cmd/") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(p, cmdPrefix) {
				t.Errorf("%s imports %s; nothing outside cmd/ may import cmd/", rel, p)
			}
		}
	}
}

// TestExportersImportOnlyTheModel: an exporter implements the agent's
// Exporter interface and imports only the model, so that the agent never
// depends on its sinks and no cycle can form.
func TestExportersImportOnlyTheModel(t *testing.T) {
	const module = "github.com/uxprobe/uxprobe/"
	allowed := []string{module + "agent/result", module + "scenarios", module + "exporters/"}
	for _, path := range goFiles(t) {
		rel, _ := filepath.Rel("..", path)
		rel = filepath.ToSlash(rel)
		if !strings.HasPrefix(rel, "exporters/") || strings.HasSuffix(rel, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
	next:
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, module) {
				continue
			}
			for _, a := range allowed {
				if p == a || strings.HasSuffix(a, "/") && strings.HasPrefix(p, a) {
					continue next
				}
			}
			t.Errorf("%s imports %s; exporters import only the model (agent/result, scenarios)", rel, p)
		}
	}
}
