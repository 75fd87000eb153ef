package scenarios

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// A flow names files (a mock's answer, an upload's files) relative to its
// own file, so that a flow and its files move together. They are checked
// when the flow loads, with the place that names them.

// MaxMockFileBytes bounds a mock's file, which is read when the flow loads
// and kept in memory.
const MaxMockFileBytes = 10 << 20

// flowFilePath resolves a path the flow names: relative to the flow file's
// folder, or as it is when absolute. On disk it returns an absolute path;
// for a flow read from an fs.FS (LoadFS), the path inside it.
// shown is the path as messages give it: relative when the flow file's
// path is.
func (p *parser) flowFilePath(rel string) (shown, full string) {
	if p.opts.fsys != nil {
		full = path.Join(path.Dir(p.file), rel)
		return full, full
	}
	shown = rel
	if !filepath.IsAbs(rel) {
		shown = filepath.Join(filepath.Dir(p.file), rel)
	}
	full = shown
	if abs, err := filepath.Abs(shown); err == nil {
		full = abs
	}
	return shown, full
}

// statFlowFile checks that a file the flow names is a regular file.
func (p *parser) statFlowFile(n *yaml.Node, what, rel string) (string, fs.FileInfo, bool) {
	if rel == "" {
		p.errorf(n, "%s is empty; name a file, relative to the flow file", what)
		return "", nil, false
	}
	shown, full := p.flowFilePath(rel)
	var st fs.FileInfo
	var err error
	if p.opts.fsys != nil {
		st, err = fs.Stat(p.opts.fsys, full)
	} else {
		st, err = os.Stat(full)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		p.errorf(n, "%s %q does not exist (looked for %s; a path is relative to the flow file)", what, clip(rel), clip(shown))
	case err != nil:
		p.errorf(n, "%s %q cannot be read: %v", what, clip(rel), err)
	case !st.Mode().IsRegular():
		p.errorf(n, "%s %q is not a file (looked for %s)", what, clip(rel), clip(shown))
	default:
		return full, st, true
	}
	return "", nil, false
}

// readFlowFile reads a file the flow names, up to max bytes.
func (p *parser) readFlowFile(n *yaml.Node, what, rel string, max int64) ([]byte, bool) {
	full, st, ok := p.statFlowFile(n, what, rel)
	if !ok {
		return nil, false
	}
	if st.Size() > max {
		p.errorf(n, "%s %q is %d bytes, more than the %d a flow may keep in memory", what, clip(rel), st.Size(), max)
		return nil, false
	}
	var r io.ReadCloser
	var err error
	if p.opts.fsys != nil {
		r, err = p.opts.fsys.Open(full)
	} else {
		r, err = os.Open(full)
	}
	if err != nil {
		p.errorf(n, "%s %q cannot be read: %v", what, clip(rel), err)
		return nil, false
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil || int64(len(data)) > max {
		p.errorf(n, "%s %q cannot be read whole (at most %d bytes)", what, clip(rel), max)
		return nil, false
	}
	return data, true
}
