package scenarios

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzMask masks arbitrary text, as a hostile page writes it, with an
// arbitrary secret: it must never panic, never leave the secret as it is,
// and never leave its base64 whole.
func FuzzMask(f *testing.F) {
	f.Add("s3cr3t+T0k/en=&x", "GET /?t=s3cr3t%2BT0k%2Fen%3D%26x and czNjcjN0K1Qway9lbj0meA== done")
	f.Add(`pa"ss w&rd/ö`, `"pa\"ss w\u0026rd\/\u00f6" &#x22; %%%25`)
	f.Add("aaaaaaaa", strings.Repeat("a%61", 50))
	f.Fuzz(func(t *testing.T, secret, text string) {
		if secret == "" || !utf8.ValidString(secret) || strings.Contains(secret, "*") {
			return // "***" next to a secret with stars may spell it
		}
		fl := &Flow{secrets: []string{secret}}
		out := fl.Mask(text)
		if strings.Contains(out, secret) {
			t.Fatalf("Mask(%q) with secret %q = %q: the secret is left", text, secret, out)
		}
		if len(secret) >= 6 {
			enc := base64.StdEncoding.EncodeToString([]byte(secret))
			if out := fl.Mask("<" + enc + ">"); strings.Contains(out, enc) {
				t.Fatalf("the base64 of %q is left whole: %q", secret, out)
			}
		}
	})
}
