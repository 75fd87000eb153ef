package scenarios

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Upload sets files on a file input, as a person who picks them in the
// browser's file chooser: the page gets its input and change events, and
// a form posts the files' bytes.
type Upload struct {
	Selector Selector
	Files    []UploadFile
}

// UploadFile is a file an upload step sets, found when the flow loaded.
type UploadFile struct {
	// Name is the file's name, which the result shows (never its bytes).
	Name string
	// Path is where it is on disk, absolute.
	Path string
	Size int64
}

// FileInput is what the upload action needs besides Page. The runner's
// page implements it.
type FileInput interface {
	// SetFiles waits until sel's element is present, and sets the files
	// (absolute paths) on it, which must be a file input (one that takes
	// several for more than one file), replacing any it had.
	SetFiles(ctx context.Context, sel Selector, paths []string) error
}

// Kind implements Action.
func (a Upload) Kind() string { return kindOf(a) }

// Do sets the files and keeps their names for the step's result.
func (a Upload) Do(ctx context.Context, p Page) error {
	fi, ok := p.(FileInput)
	if !ok {
		return Fail(KindScript, "upload needs a page that sets files")
	}
	paths := make([]string, len(a.Files))
	for i, f := range a.Files {
		paths[i] = f.Path
	}
	if err := fi.SetFiles(ctx, a.Selector, paths); err != nil {
		return err
	}
	if k, ok := p.(ValueKeeper); ok {
		k.KeepValue(a.names())
	}
	return nil
}

// names says which files were set: "avatar.png (2048 bytes), cv.pdf (...)".
func (a Upload) names() string {
	s := make([]string, len(a.Files))
	for i, f := range a.Files {
		s[i] = fmt.Sprintf("%s (%d bytes)", f.Name, f.Size)
	}
	return strings.Join(s, ", ")
}

var uploadSpec = actionSpec{
	name: "upload", doc: "Set files on a file input, as picked in the file chooser; paths are relative to the flow file.",
	params: []param{
		{name: "selector", typ: typeSelector, required: true, doc: "the file input (<input type=file>); it may be hidden behind a styled label"},
		{name: "files", typ: typeUploadFiles, required: true, doc: "a path or a list of paths, relative to the flow file; checked when the flow loads"},
	},
	zero: Upload{},
	build: func(a args) Action {
		files, _ := a["files"].([]UploadFile)
		return Upload{Selector: a.sel("selector"), Files: files}
	},
}

// uploadFiles reads an upload's files: one path or a list, each a file
// that exists, relative to the flow file. A flow read from an fs.FS (the
// embedded examples) has no file on disk for Chrome to read.
func (p *parser) uploadFiles(n *yaml.Node, what string) (any, bool) {
	items, ok := p.stringList(n, what)
	if !ok {
		return nil, false
	}
	if len(items) == 0 {
		p.errorf(n, "%s is empty; name the files to upload, relative to the flow file", what)
		return nil, false
	}
	var files []UploadFile
	good := true
	for _, it := range items {
		s, ok := p.str(it, what)
		if !ok {
			good = false
			continue
		}
		if p.opts.fsys != nil {
			p.errorf(it, "%s %q: an upload needs its files on disk, and this flow was not read from a file on disk", what, clip(s))
			good = false
			continue
		}
		full, st, ok := p.statFlowFile(it, what, s)
		if !ok {
			good = false
			continue
		}
		files = append(files, UploadFile{Name: filepath.Base(full), Path: full, Size: st.Size()})
	}
	return files, good
}
