package scenarios

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"

	"gopkg.in/yaml.v3"
)

// LoadOptions change how flows are read.
type LoadOptions struct {
	// LookupEnv resolves ${env:NAME}; nil means the process environment.
	LookupEnv func(string) (string, bool)
	// Vars override or add flow variables, for example the base URL of the
	// embedded demo shop.
	Vars map[string]string
	// Axe is what the caller found of axe-core; nil means it did not look:
	// a11y-<id> rules are checked against the pinned axe-core's ids, and
	// `audit: all` means the page rules without accessibility.
	Axe *Axe

	// fsys is the file system of LoadFS, where the files a flow names
	// (a mock's file) are looked up; nil means the disk.
	fsys fs.FS
}

// FileResult is what one flow file gave: its valid flows, or its errors. A
// broken file never hides the flows of the other files.
type FileResult struct {
	Path  string
	Flows []*Flow
	Err   error // an ErrorList, or an I/O error
}

// Load reads flow files and directories (every *.yaml and *.yml below a
// directory). Flow names must be unique across all files; a duplicate is an
// error of the file that repeats it. Load returns an error only when a path
// cannot be read at all.
func Load(paths []string, opts LoadOptions) ([]FileResult, error) {
	files, missing, err := expandPaths(paths)
	if err != nil {
		return nil, err
	}
	// A file named on the command line that is gone is an error of that
	// file: on reload its flows keep running, as for an invalid file.
	var results []FileResult
	for _, m := range missing {
		results = append(results, FileResult{Path: m.path, Err: m.err})
	}
	seen := map[string]Position{}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			results = append(results, FileResult{Path: path, Err: err})
			continue
		}
		flows, err := Parse(path, data, opts)
		var errs ErrorList
		if err != nil {
			errs = err.(ErrorList)
		}
		var kept []*Flow
		for _, f := range flows {
			if prev, dup := seen[f.Name]; dup {
				errs = append(errs, duplicateFlow(f, prev))
				continue
			}
			seen[f.Name] = f.Source
			kept = append(kept, f)
		}
		r := FileResult{Path: path, Flows: kept}
		if len(errs) > 0 {
			// A file with any error contributes no flow: half a file's flows
			// running would be a silent surprise.
			r.Flows = nil
			for _, f := range kept {
				delete(seen, f.Name)
			}
			r.Err = errs.sorted()
		}
		results = append(results, r)
	}
	checkSessionsAcross(results)
	return results, nil
}

// checkSessionsAcross checks the sessions the flows of all files name (see
// CheckSessions). An error is the file's of the flow that names the
// session, and that file's flows are dropped, as for any error; which may
// leave another file's flow without its login flow, so it goes on until
// no file changes.
func checkSessionsAcross(results []FileResult) {
	for range results {
		var flows []*Flow
		for _, r := range results {
			flows = append(flows, r.Flows...)
		}
		errs := CheckSessions(flows)
		if len(errs) == 0 {
			return
		}
		for i := range results {
			r := &results[i]
			var mine ErrorList
			for _, e := range errs {
				if e.Pos.File == r.Path && r.Flows != nil {
					mine = append(mine, e)
				}
			}
			if len(mine) == 0 {
				continue
			}
			var prev ErrorList
			if l, ok := r.Err.(ErrorList); ok {
				prev = l
			}
			r.Flows, r.Err = nil, append(prev, mine...).sorted()
		}
	}
}

func duplicateFlow(f *Flow, prev Position) *Error {
	return &Error{Pos: f.Source, Flow: f.Name, Msg: "a flow with this name is already defined at " + prev.String() + "; flow names must be unique"}
}

// LoadFS reads flow files from a file system, such as the embedded examples.
// As with Load, flow names must be unique across the files.
func LoadFS(fsys fs.FS, opts LoadOptions) ([]*Flow, error) {
	var flows []*Flow
	var errs ErrorList
	seen := map[string]Position{}
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isFlowFile(path) {
			return err
		}
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		opts.fsys = fsys
		fl, err := Parse(path, data, opts)
		if err != nil {
			errs = append(errs, err.(ErrorList)...)
		}
		for _, f := range fl {
			if prev, dup := seen[f.Name]; dup {
				errs = append(errs, duplicateFlow(f, prev))
				continue
			}
			seen[f.Name] = f.Source
			flows = append(flows, f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	errs = append(errs, CheckSessions(flows)...)
	if len(errs) > 0 {
		return flows, errs
	}
	return flows, nil
}

// Parse reads the flows of one file. It returns the valid flows and an
// ErrorList with every problem of the invalid ones.
// msgNoFlow is the error of a file without a flow; it is about the whole
// file, so it has no line.
const msgNoFlow = "no flow in this file"

func Parse(file string, data []byte, opts LoadOptions) ([]*Flow, error) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var flows []*Flow
	var errs ErrorList
	seen := map[string]Position{} // flow names must be unique within a file too
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, syntaxError(file, data, err))
			break
		}
		if len(doc.Content) == 0 || isEmptyDocument(doc.Content[0]) {
			// An empty document, as after a trailing "---": no flow, and no
			// error, as long as the file has a flow at all.
			continue
		}
		p := &parser{file: file, opts: opts}
		f := p.flow(doc.Content[0])
		if len(p.errs) > 0 {
			p.maskErrors(f)
			errs = append(errs, p.errs...)
			continue
		}
		if prev, dup := seen[f.Name]; dup {
			errs = append(errs, duplicateFlow(f, prev))
			continue
		}
		seen[f.Name] = f.Source
		flows = append(flows, f)
	}
	if len(errs) > 0 {
		return flows, errs.sorted()
	}
	if len(flows) == 0 {
		// An empty file, or one of comments only, is most often a mistake
		// (a ConfigMap key emptied by accident): its flows would vanish
		// without a word.
		return nil, ErrorList{{Pos: Position{File: file}, Msg: msgNoFlow}}
	}
	return flows, nil
}
