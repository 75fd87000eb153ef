package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestContributingMatchesTheCode keeps CONTRIBUTING.md true: every file it
// names exists, and every "`identifier` in `file`" it says is in that file.
func TestContributingMatchesTheCode(t *testing.T) {
	data, err := os.ReadFile("../CONTRIBUTING.md")
	if err != nil {
		t.Fatal(err)
	}
	// Joined lines, so that a pair broken across lines is still found.
	text := strings.Join(strings.Fields(string(data)), " ")
	paths := regexp.MustCompile("`((?:agent|cmd|deploy|exporters|scenarios|testdata)/[A-Za-z0-9_./<>-]+|README\\.md)`").FindAllStringSubmatch(text, -1)
	if len(paths) < 15 {
		t.Fatalf("found %d file names in CONTRIBUTING.md; the pattern no longer matches how it names files", len(paths))
	}
	for _, m := range paths {
		if strings.Contains(m[1], "<") {
			continue // a pattern such as exporters/<name>
		}
		if _, err := os.Stat(filepath.Join("..", m[1])); err != nil {
			t.Errorf("CONTRIBUTING.md names %s, which does not exist", m[1])
		}
	}
	pairs := regexp.MustCompile("`([A-Za-z_][A-Za-z0-9_]*)` (?:of|in) `([a-z][A-Za-z0-9_./-]+\\.go)`").FindAllStringSubmatch(text, -1)
	if len(pairs) < 10 {
		t.Fatalf("found %d \"`identifier` in `file`\" pairs; the pattern no longer matches", len(pairs))
	}
	for _, m := range pairs {
		src, err := os.ReadFile(filepath.Join("..", m[2]))
		if err != nil {
			t.Errorf("CONTRIBUTING.md names %s: %v", m[2], err)
			continue
		}
		if !regexp.MustCompile(`\b` + m[1] + `\b`).Match(src) {
			t.Errorf("CONTRIBUTING.md says %s is in %s, but it is not", m[1], m[2])
		}
	}
}
