package runner

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestSecretFieldsConcealed types a secret into a text field, a textarea,
// a field inside a shadow root and a contenteditable editor, and an ordinary value into another,
// and checks in real Chromium that the fields with a secret are drawn as
// a password field is (their value stays), the other not. Then a
// screenshot of two runs with different secrets of one length is the same
// picture: the secret shows in no pixel.
func TestSecretFieldsConcealed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>Keys</title>
<style>input,textarea{font:20px monospace;width:400px;display:block;margin:8px}</style>
<input id="key" aria-label="API key"><textarea id="note" aria-label="Note"></textarea><input id="name" aria-label="Name">
<div id="editor" contenteditable="true" aria-label="Editor" style="font:20px monospace;width:400px;min-height:24px;border:1px solid #999"></div>
<div id="host"></div>
<script>const root = document.getElementById('host').attachShadow({mode: 'open'}); root.innerHTML = '<input id="inner" aria-label="Inner" style="font:20px monospace;width:400px">';</script>`)
	}))
	t.Cleanup(srv.Close)
	run := func(secret string) (string, []byte) {
		dir := t.TempDir()
		f := mustFlow(t, `name: conceal
vars: {token: `+strconv.Quote(secret)+`}
secrets: [token]
steps:
  - goto: `+srv.URL+`/
  - fill: {selector: "#key", value: "${token}"}
  - type: {selector: "#note", text: "key ${token} here"}
  - fill: {selector: "#name", value: "Ada Lovelace"}
  - fill: {selector: "#inner", value: "${token}"}
  - type: {selector: "#editor", text: "${token}"}
  - eval: |
      (() => {
        const sec = (el) => getComputedStyle(el).webkitTextSecurity;
        const inner = document.getElementById('host').shadowRoot.getElementById('inner');
        return sec(document.getElementById('key')) === 'disc' && sec(document.getElementById('note')) === 'disc' &&
          sec(inner) === 'disc' && sec(document.getElementById('editor')) === 'disc' && sec(document.getElementById('name')) === 'none' &&
          document.getElementById('key').value === '`+secret+`' ? 'concealed' : 'shown: ' + [sec(document.getElementById('key')), sec(document.getElementById('note')), sec(inner), sec(document.getElementById('name'))];
      })()
  - screenshot: fields
`)
		res := (&Runner{Browser: testBrowser, ArtifactsDir: dir}).Run(context.Background(), f, desktop(t))
		if !res.Success {
			t.Fatalf("flow failed: %+v", res.Error)
		}
		shot, err := os.ReadFile(filepath.Join(dir, "conceal", "desktop", "fields.png"))
		if err != nil {
			t.Fatal(err)
		}
		return res.Steps[6].Value, shot
	}
	v1, shot1 := run("Xq7Lm2Pz9Wk4")
	_, shot2 := run("Bt3Vn8Rc5Jh1")
	if v1 != `"concealed"` {
		t.Errorf("the fields' text security: %s", v1)
	}
	if !bytes.Equal(shot1, shot2) {
		t.Error("the screenshots of two secrets of one length differ: the secret shows")
	}
}
