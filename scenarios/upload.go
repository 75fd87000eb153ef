package scenarios

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
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
	// Path is where it is on disk, absolute; "" for a file of a flow read
	// from an fs.FS (the embedded examples), whose bytes are kept instead
	// and written to disk when the step runs (uploadPath).
	Path string
	Size int64
	data []byte
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
		path, err := f.diskPath()
		if err != nil {
			return Fail(KindScript, "upload cannot put %s on disk for the browser: %v", f.Name, err)
		}
		paths[i] = path
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

// MaxEmbeddedUploadBytes bounds an upload file of a flow read from an
// fs.FS, which is kept in memory.
const MaxEmbeddedUploadBytes = 10 << 20

// uploadFiles reads an upload's files: one path or a list, each a file
// that exists, relative to the flow file. A flow read from an fs.FS (the
// embedded examples) has no file on disk for Chrome to read: its files'
// bytes are kept.
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
			data, ok := p.readFlowFile(it, what, s, MaxEmbeddedUploadBytes)
			if !ok {
				good = false
				continue
			}
			files = append(files, UploadFile{Name: path.Base(s), Size: int64(len(data)), data: data})
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

// diskPath is where the browser reads the file from. A kept file is
// written once, by its content, to <user cache>/uxprobe/uploads/<hash>/
// <name> (the temporary folder when there is no cache folder): the same
// bytes are the same path on every run, so nothing piles up, and a file
// found there with other bytes is replaced, never trusted.
func (f UploadFile) diskPath() (string, error) {
	if f.data == nil {
		return f.Path, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	sum := sha256.Sum256(f.data)
	dir := filepath.Join(base, "uxprobe", "uploads", hex.EncodeToString(sum[:12]))
	full := filepath.Join(dir, f.Name)
	if old, err := os.ReadFile(full); err == nil && bytes.Equal(old, f.data) {
		return full, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return "", err
	}
	_, werr := tmp.Write(f.data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	if err := os.Rename(tmp.Name(), full); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return full, nil
}
