package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/scenarios"
)

// uploadSite has a form with a single and a multiple file input, which
// show what was picked (their change event), and an endpoint that checks
// each uploaded file's name, size and bytes against want.
func uploadSite(t *testing.T, want map[string][]byte) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/form", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>Profile</title>
<form method="post" enctype="multipart/form-data" action="/upload">
<label for="avatar" style="padding:8px;border:1px solid">Choose a photo</label>
<input type="file" id="avatar" name="avatar" style="display:none">
<input type="file" id="docs" name="docs" multiple>
<input id="plain" name="plain">
<button id="send">Send</button></form>
<p id="picked"></p>
<script>
for (const el of document.querySelectorAll('input[type=file]'))
  el.addEventListener('change', () => {
    document.getElementById('picked').textContent += el.id + ':' + [...el.files].map(f => f.name + '/' + f.size).join(',') + ' ';
  });
</script>`)
	})
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(10 << 20); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var out []string
		for _, field := range []string{"avatar", "docs"} {
			for _, fh := range r.MultipartForm.File[field] {
				f, err := fh.Open()
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				got, _ := io.ReadAll(f)
				f.Close()
				verdict := "bytes ok"
				if w, ok := want[fh.Filename]; !ok || !bytes.Equal(got, w) {
					verdict = "bytes differ"
				}
				out = append(out, fmt.Sprintf("%s=%s/%d %s", field, fh.Filename, fh.Size, verdict))
			}
		}
		fmt.Fprintf(w, `<!doctype html><link rel="icon" href="data:,"><title>Saved</title><p id="result">%s</p>`, strings.Join(out, "; "))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestUpload: the files a flow names, relative to the flow file, reach
// the server whole, the page sees them picked, and the result names them.
func TestUpload(t *testing.T) {
	t.Parallel()
	avatar := make([]byte, 3000)
	for i := range avatar {
		avatar[i] = byte(i * 7) // every byte value, NULs included
	}
	files := map[string][]byte{"avatar.png": avatar, "a.txt": []byte("first\n"), "b.csv": []byte("x,y\n1,2\n")}
	tests := []struct {
		name     string
		steps    string
		wantKind scenarios.ErrorKind
		wantMsg  string
		picked   string
		result   string
		value    string // of the first upload step
	}{
		{name: "one file on a hidden input, then several on a multiple one",
			steps:  "- upload: {selector: '#avatar', files: files/avatar.png}\n- upload: {selector: '#docs', files: [files/a.txt, files/b.csv]}",
			picked: "avatar:avatar.png/3000 docs:a.txt/6,b.csv/8", result: "avatar=avatar.png/3000 bytes ok; docs=a.txt/6 bytes ok; docs=b.csv/8 bytes ok",
			value: `avatar.png (3000 bytes)`},
		{name: "two files on a single input", steps: "- upload: {selector: '#avatar', files: [files/a.txt, files/b.csv]}",
			wantKind: scenarios.KindAssertion, wantMsg: "#avatar takes one file (it has no multiple attribute), not 2"},
		{name: "not a file input", steps: "- upload: {selector: '#plain', files: files/a.txt}",
			wantKind: scenarios.KindAssertion, wantMsg: "#plain is <input type=text>, not a file input"},
		{name: "no such element", steps: "- upload: {selector: '#nope', files: files/a.txt, }",
			wantKind: scenarios.KindElementNotFound, wantMsg: "no element matches #nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := uploadSite(t, files)
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "files"), 0o755); err != nil {
				t.Fatal(err)
			}
			for name, data := range files {
				if err := os.WriteFile(filepath.Join(dir, "files", name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			steps := "- goto: " + srv.URL + "/form\n" + tc.steps
			if tc.wantKind == "" {
				steps += "\n- assert_text: {selector: '#picked', equals: '" + tc.picked + "'}\n- click: '#send'\n- assert_text: {selector: '#result', equals: '" + tc.result + "'}"
			}
			path := filepath.Join(dir, "flow.yaml")
			if err := os.WriteFile(path, []byte("name: upload\ntimeout: 20s\nstep_timeout: 3s\nsteps:\n"+indent(steps)), 0o644); err != nil {
				t.Fatal(err)
			}
			loaded, err := scenarios.Load([]string{path}, scenarios.LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
			if err != nil || loaded[0].Err != nil {
				t.Fatalf("flow does not load: %v %v", err, loaded[0].Err)
			}
			res := (&Runner{Browser: testBrowser}).Run(context.Background(), loaded[0].Flows[0], desktop(t))
			checkOutcome(t, res, tc.wantKind, tc.wantMsg)
			if tc.value != "" && res.Steps[1].Value != tc.value {
				t.Errorf("upload step value = %q, want %q", res.Steps[1].Value, tc.value)
			}
		})
	}
}
