package runner

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/scenarios"
)

// TestClipsAfterMasking: a dialog's message and a throwing extract
// expression quote a secret where the clip falls. Clipped before masking,
// each kept the secret's first characters; through the result's one
// boundary (mask, then clip) neither does.
func TestClipsAfterMasking(t *testing.T) {
	t.Parallel()
	srv := sitesSite(t)
	const secret = "Xk7Qz9pass"
	// The clip of a dialog's message falls at 300 bytes, that of a
	// quoted expression once fell at 120: the secret straddles both.
	dialogPad := strings.Repeat("d", 296)
	exprPad := strings.Repeat("e", 113)
	f := mustFlow(t, `name: t
timeout: 20s
vars: {token: '`+secret+`'}
secrets: [token]
steps:
  - goto: `+srv.URL+`/plain
  - eval: "(alert('`+dialogPad+`${token}'), true)"
  - extract: {var: x, eval: "'`+exprPad+`${token}' + nothing.here"}
    optional: true
  - extract: {var: y, eval: "(() => { throw new Error('`+dialogPad+`${token}') })()"}
    optional: true
`)
	res := (&Runner{Browser: testBrowser}).Run(context.Background(), f, desktop(t))
	checkOutcome(t, res, "", "")
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{"Xk7", "Qz9"} {
		if strings.Contains(string(out), frag) {
			t.Errorf("the result leaks the secret (%q): %s", frag, out)
		}
	}
	if len(res.Dialogs) != 1 || !strings.HasSuffix(res.Dialogs[0].Message, "***") {
		t.Errorf("dialogs %+v, want the message to end in the masked secret", res.Dialogs)
	}
	for _, i := range []int{2, 3} {
		if st := res.Steps[i]; st.Success || !strings.Contains(st.Error, "***") {
			t.Errorf("step %s: %q, want a script error showing the masked secret", st.Name, st.Error)
		}
	}
	if k := scenarios.KindScript; !strings.Contains(res.Steps[2].Error, "nothing is not defined") {
		t.Errorf("step %s error %q, want the %s error", res.Steps[2].Name, res.Steps[2].Error, k)
	}
}
