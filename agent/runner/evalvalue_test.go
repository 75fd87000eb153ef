package runner

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/agent/redact"
)

// TestEvalValueInResult: an eval step's value is in the result, so that a
// selector or a page's state can be debugged from the result alone; a long
// one is clipped by the redaction boundary, and an error message keeps the
// whole expression it quotes, up to 2,000 characters.
func TestEvalValueInResult(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>list</title><ul><li>a</li><li>b</li><li class="x">c</li></ul>`)
	}))
	t.Cleanup(srv.Close)
	long := strings.Repeat("q", 900) // the expression a message quotes
	res := runSteps(t, srv.URL, "", `- goto: ${u}/
- eval: "document.querySelectorAll('li').length"
- eval: "[...document.querySelectorAll('li.x')].map(e => e.textContent).join()"
- eval: "'v'.repeat(5000)"
- eval: "document.querySelectorAll('li:nth-child(4)').length + '`+long+`'.length * 0"`)
	if len(res.Steps) != 5 {
		t.Fatalf("%d steps: %+v", len(res.Steps), res.Steps)
	}
	for i, want := range map[int]string{1: "3", 2: `"c"`, 4: "0"} {
		if got := res.Steps[i].Value; got != want {
			t.Errorf("step %d value = %q, want %q", i+1, got, want)
		}
	}
	if got := res.Steps[0].Value; got != "" {
		t.Errorf("a goto has value %q", got)
	}
	if got := res.Steps[3].Value; len(got) > redact.ValueLen+len("…") || !strings.HasPrefix(got, `"vvvv`) || !strings.HasSuffix(got, "…") {
		t.Errorf("a 5,000-character value is %d bytes (%.20q...), want it clipped to %d", len(got), got, redact.ValueLen)
	}
	// The falsy step fails, and its message quotes the whole expression.
	checkOutcome(t, res, "assertion", "returned 0, expected a truthy value")
	if !strings.Contains(res.Error.Message, long) || !strings.Contains(res.Steps[4].Error, long) {
		t.Errorf("the message does not keep the whole expression (%d bytes): %.120q", len(res.Error.Message), res.Error.Message)
	}
}
