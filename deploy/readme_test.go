package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeNamesExistingFiles keeps the README's Deploy section (and every
// other place that names a file of the repository) true after renames.
func TestReadmeNamesExistingFiles(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("`((?:deploy|scenarios|agent|cmd|exporters|testdata)/[A-Za-z0-9_./-]+)`|\\]\\(((?:deploy|scenarios|agent|cmd|exporters|testdata)/[A-Za-z0-9_./-]+)\\)")
	seen := 0
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		path := m[1] + m[2]
		path = strings.TrimSuffix(path, ".")
		seen++
		if _, err := os.Stat(filepath.Join("..", path)); err != nil {
			t.Errorf("README.md names %s, which does not exist", path)
		}
	}
	if seen < 10 {
		t.Fatalf("found only %d file names in README.md; the pattern no longer matches how it names files", seen)
	}
}
