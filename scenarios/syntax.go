package scenarios

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// isEmptyDocument reports whether a document root is the implicit null that
// yaml.v3 gives a document with nothing but comments, such as the one after a
// trailing "---". An explicit null (~ or null) is still reported as an error.
func isEmptyDocument(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == "" && n.Style == 0
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxHints say what a yaml.v3 syntax message usually means in a flow file.
var syntaxHints = map[string]string{
	"did not find expected key":                      "check the indentation of this line against the keys above it",
	"did not find expected '-' indicator":            "check the indentation of this line against the list items above it",
	"found unexpected end of stream":                 "a quote or bracket opened on this line is never closed",
	"mapping values are not allowed in this context": "a value contains \": \"; put the value in quotes",
}

// syntaxError turns a YAML syntax error into a positioned Error. yaml.v3
// reports only a line, and for parser errors the line where the enclosing
// block starts (counted from 0), so the problem line is found again by
// parsing ever longer prefixes of the file until one fails the same way.
func syntaxError(file string, data []byte, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	line = problemLine(data, line, msg)
	lines := bytes.Split(data, []byte("\n"))
	var text []byte
	if line >= 1 && line <= len(lines) {
		text = lines[line-1]
	}
	indent := text[:len(text)-len(bytes.TrimLeft(text, " \t"))]
	if tab := bytes.IndexByte(indent, '\t'); tab >= 0 {
		return &Error{Pos: Position{File: file, Line: line, Column: tab + 1}, Msg: "invalid YAML: a tab indents this line; YAML allows only spaces for indentation"}
	}
	if hint, ok := syntaxHints[msg]; ok {
		msg += "; " + hint
	}
	return &Error{Pos: Position{File: file, Line: line, Column: len(indent) + 1}, Msg: "invalid YAML: " + msg}
}

// maxPrefixParses bounds the search of problemLine on long files, where the
// line yaml.v3 reports is kept instead.
const maxPrefixParses = 200

// problemLine returns the first line from `from` on whose prefix of the file
// fails with msg. The true line is never before the one yaml.v3 reports.
func problemLine(data []byte, from int, msg string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	end := 0
	for i := 0; i < from-1 && i < len(lines); i++ {
		end += len(lines[i])
	}
	for k := max(from, 1); k <= len(lines) && k < from+maxPrefixParses; k++ {
		end += len(lines[k-1])
		err := decodeAll(data[:end])
		if err == nil {
			continue
		}
		got := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
			got = m[2]
		}
		if got == msg {
			return k
		}
	}
	return max(from, 1)
}

// decodeAll parses every document of data and returns the first error.
func decodeAll(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
