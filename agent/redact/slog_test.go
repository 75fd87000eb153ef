package redact_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/agent/redact"
	"github.com/uxprobe/uxprobe/scenarios"
)

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

type nested struct {
	Name  string
	Inner *struct{ Token string }
	List  []string
}

type valuer struct{ s string }

func (v valuer) LogValue() slog.Value { return slog.StringValue(v.s) }

// TestHandlerMasksEveryPartOfARecord: whatever a caller logs, in whatever
// shape, the secret does not reach the output, with the text and the JSON
// handler alike; the flows loaded after the logger was made count too.
func TestHandlerMasksEveryPartOfARecord(t *testing.T) {
	const secret = "Log+Secret/42&x"
	f := secretFlow(t, secret)
	q := url.QueryEscape(secret)
	logAll := func(l *slog.Logger) {
		l = l.With("with", "w-"+secret).WithGroup("g-"+secret).With("in-group", q)
		l.Info("message "+secret,
			"string", secret,
			"err", fmt.Errorf("wrapped: %w", errors.New("GET /?t="+q+" failed")),
			"stringer", stringer{"s=" + secret},
			"struct", nested{Name: secret, Inner: &struct{ Token string }{secret}, List: []string{"a", secret}},
			"pointer", &nested{Name: secret},
			"bytes", []byte(secret),
			"valuer", valuer{secret},
			slog.Group("group", "deep", secret, slog.Group("deeper", "x", q)),
			"key-"+secret, 1,
			"number", 42,
		)
	}
	for _, kind := range []string{"text", "json"} {
		t.Run(kind, func(t *testing.T) {
			var buf bytes.Buffer
			var inner slog.Handler = slog.NewTextHandler(&buf, nil)
			if kind == "json" {
				inner = slog.NewJSONHandler(&buf, nil)
			}
			var flows redact.Flows
			l := slog.New(redact.NewHandler(inner, flows.Mask))
			flows.Set([]*scenarios.Flow{f}) // after the logger was made
			logAll(l)
			out := buf.String()
			for _, frag := range []string{"Log+Secret", "Secret/42", "Log%2BSecret", "Secret%2F42"} {
				if strings.Contains(out, frag) {
					t.Errorf("the log shows %q: %s", frag, out)
				}
			}
			for _, want := range []string{"number", "42", "***"} {
				if !strings.Contains(out, want) {
					t.Errorf("the log lost %q: %s", want, out)
				}
			}
		})
	}
}

// TestHandlerKeepsValuesWithoutSecrets: values are passed on unchanged
// when they hold no secret, so the JSON log keeps its structure.
func TestHandlerKeepsValuesWithoutSecrets(t *testing.T) {
	f := secretFlow(t, "NotInHere99")
	var buf bytes.Buffer
	l := slog.New(redact.NewHandler(slog.NewJSONHandler(&buf, nil), f.Mask))
	l.Info("m", "struct", nested{Name: "n", List: []string{"a"}}, "n", 3)
	want := `"struct":{"Name":"n","Inner":null,"List":["a"]},"n":3}`
	if !strings.Contains(buf.String(), want) {
		t.Errorf("got %s, want it to contain %s", buf.String(), want)
	}
}
