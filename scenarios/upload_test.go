package scenarios

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// filePage records the files an upload sets.
type filePage struct {
	fakePage
	paths []string
	value string
}

func (p *filePage) SetFiles(_ context.Context, _ Selector, paths []string) error {
	p.paths = paths
	return nil
}

func (p *filePage) KeepValue(v string) { p.value = v }

// TestFlowFilesFromFS: a flow read from an fs.FS (the embedded examples)
// finds its mock and upload files in the same FS, relative to the flow
// file; an upload's bytes reach the disk, by content, when the step runs.
func TestFlowFilesFromFS(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	fsys := fstest.MapFS{
		"shop/profile.yaml": {Data: []byte("name: profile\nmock:\n  - url: https://cdn.example.com/chat.js\n    file: mocks/chat.js\nsteps:\n" +
			"  - goto: https://shop.example.com/\n  - upload: {selector: '#avatar', files: [img/avatar.png, ../shared/cv.txt]}\n")},
		"shop/mocks/chat.js":  {Data: []byte("window.chat = 0")},
		"shop/img/avatar.png": {Data: []byte("\x89PNG\x00\x01")},
		"shared/cv.txt":       {Data: []byte("curriculum")},
	}
	flows, err := LoadFS(fsys, LoadOptions{LookupEnv: fakeEnv(nil)})
	if err != nil {
		t.Fatal(err)
	}
	f := flows[0]
	if string(f.Mocks[0].Body) != "window.chat = 0" || f.Mocks[0].ContentType != "text/javascript; charset=utf-8" {
		t.Errorf("mock = %q %q", f.Mocks[0].Body, f.Mocks[0].ContentType)
	}
	up := f.Steps[1].Action.(Upload)
	p := &filePage{}
	for range 2 { // the second run finds the files in place
		if err := up.Do(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"\x89PNG\x00\x01", "curriculum"}
	for i, path := range p.paths {
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want[i] || !strings.HasPrefix(path, os.Getenv("XDG_CACHE_HOME")) {
			t.Errorf("file %d at %s: %q, %v", i, path, got, err)
		}
	}
	if filepath.Base(p.paths[0]) != "avatar.png" || p.value != "avatar.png (6 bytes), cv.txt (10 bytes)" {
		t.Errorf("paths %v, value %q", p.paths, p.value)
	}
}
