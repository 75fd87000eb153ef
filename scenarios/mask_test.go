package scenarios

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func secretFlow(t testing.TB, secret string) *Flow {
	t.Helper()
	flows, err := Parse("t.yaml", []byte("name: t\nvars: {token: "+strconv.Quote(secret)+"}\nsecrets: [token]\nsteps:\n  - goto: http://x/\n"), LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	return flows[0]
}

// TestMaskEveryEncoding: a secret reaches messages raw, URL-encoded by
// the browser or by Go, quoted by JSON, JavaScript or Go, and as HTML
// entities; every form must come out as ***.
func TestMaskEveryEncoding(t *testing.T) {
	const secret = `pa"ss w&rd/ö`
	f := secretFlow(t, secret)
	jsonOf := func(s string) string { b, _ := json.Marshal(s); return strings.Trim(string(b), `"`) }
	goQuoted := strings.Trim(strconv.Quote(secret), `"`)
	tests := []struct{ name, form string }{
		{"raw", secret},
		{"URL query (Go)", url.QueryEscape(secret)},
		{"URL path (Go)", url.PathEscape(secret)},
		{"URL as Chrome normalises it", `pa%22ss%20w&rd/%C3%B6`},
		{"URL in lower-case hex", `pa%22ss%20w%26rd%2f%c3%b6`},
		{"JSON", jsonOf(secret)},
		{"JSON quoted again", jsonOf(jsonOf(secret))},
		{"Go %q", goQuoted},
		{"Go %+q", strings.Trim(strconv.QuoteToASCII(secret), `"`)},
		{"Go %q of JSON", strings.Trim(strconv.Quote(jsonOf(secret)), `"`)},
		{"HTML escaped", html.EscapeString(secret)},
		{"HTML named and decimal entities", `pa&quot;ss&nbsp;w&amp;rd/&#246;`},
		{"HTML hex entities", `pa&#x22;ss w&#x26;rd&#x2F;&#xf6;`},
		{"JavaScript \\x and \\/", `pa\x22ss w\x26rd\/\xc3\xb6`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := "before " + tc.form + " after"
			if got := f.Mask(in); got != "before *** after" {
				t.Errorf("Mask(%q) = %q, want %q", in, got, "before *** after")
			}
		})
	}
}

// TestMaskLeavesOtherTextAlone: masking must not eat neighbours or
// near-misses of the secret.
func TestMaskLeavesOtherTextAlone(t *testing.T) {
	f := secretFlow(t, `a%b`)
	tests := []struct{ in, want string }{
		{"a%b", "***"},
		{"a%25b", "***"},
		{"xa%b%a%bx", "x***%***x"},
		{"a%c", "a%c"},
		{"a%", "a%"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := f.Mask(tc.in); got != tc.want {
			t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestMaskThenClipLeavesNoPrefix: a clip through a secret must not leave
// its first characters behind, which is why masking comes first.
func TestMaskThenClipLeavesNoPrefix(t *testing.T) {
	const secret = "Xk7Qz9W4m"
	f := secretFlow(t, secret)
	for cut := 1; cut < 30; cut++ {
		msg := strings.Repeat("y", 10) + secret + strings.Repeat("z", 10)
		got := Clip(f.Mask(msg), 10+cut)
		if strings.Contains(got, "Xk7") {
			t.Fatalf("cut at %d: %q leaks the secret's start", cut, got)
		}
	}
}

// TestMaskIsBoundedOnHostileInput: forms that are prefixes of one another
// make the matcher backtrack; a page full of them must not stall a run.
func TestMaskIsBoundedOnHostileInput(t *testing.T) {
	f := secretFlow(t, strings.Repeat(`%\`, 20)+"x")
	in := strings.Repeat(`%25\\`, 2000)
	if got := f.Mask(in); got != in {
		t.Errorf("Mask changed text without the secret: %q", got[:40])
	}
}

func ExampleFlow_Mask() {
	flows, _ := Parse("t.yaml", []byte("name: t\nvars: {token: 's3cr&t'}\nsecrets: [token]\nsteps:\n  - goto: http://x/\n"), LoadOptions{})
	fmt.Println(flows[0].Mask(`GET http://x/?t=s3cr%26t failed; "s3cr\u0026t"; s3cr&amp;t`))
	// Output: GET http://x/?t=*** failed; "***"; ***
}

// BenchmarkMask is masking a typical failed request URL with a secret of
// every special character, as a run does for each string it reports.
func BenchmarkMask(b *testing.B) {
	flows, err := Parse("t.yaml", []byte("name: t\nvars: {token: 'pa\"ss w&rd/ö'}\nsecrets: [token]\nsteps:\n  - goto: http://x/\n"), LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	f := flows[0]
	s := "GET https://shop.example.com/account/orders?page=2&session=pa%22ss%20w&rd/%C3%B6&sort=date failed: net::ERR_CONNECTION_RESET"
	for b.Loop() {
		f.Mask(s)
	}
}

// TestMaskWholeEncodings: a page or a server may write a secret as a
// whole in base64 (alone, or inside a longer encoded text, where it
// starts at any of three offsets) or in hex, and that text may then be
// URL- or JSON-encoded in turn. No more of the encoding may survive than
// the characters it shares with its neighbours (at most four bits of the
// secret each) and its padding.
func TestMaskWholeEncodings(t *testing.T) {
	const secret = `pa"ss w&rd/ö+Zq9`
	f := secretFlow(t, secret)
	latin1 := []byte{}
	for _, r := range secret {
		latin1 = append(latin1, byte(r))
	}
	b64 := base64.StdEncoding.EncodeToString
	tests := []struct{ name, form string }{
		{"base64", b64([]byte(secret))},
		{"base64 after one byte", b64([]byte("x" + secret))},
		{"base64 after two bytes", b64([]byte("xy" + secret))},
		{"base64 before other bytes", b64([]byte(secret + "tail"))},
		{"base64 in the middle of a JSON token", b64([]byte(`{"user":"ada","token":"` + secret + `","exp":1}`))},
		{"URL-safe base64 without padding", base64.RawURLEncoding.EncodeToString([]byte("xy" + secret))},
		{"base64 of Latin-1 bytes (btoa)", b64(latin1)},
		{"base64 in a URL query", url.QueryEscape(b64([]byte("x" + secret)))},
		{"base64 in JSON", strings.Trim(strconv.Quote(b64([]byte(secret))), `"`)},
		{"hex", hex.EncodeToString([]byte(secret))},
		{"HEX", strings.ToUpper(hex.EncodeToString([]byte(secret)))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := "before " + tc.form + " after"
			got := f.Mask(in)
			left, ok := strings.CutPrefix(got, "before ")
			left, ok2 := strings.CutSuffix(left, " after")
			if !ok || !ok2 || !strings.Contains(left, Masked) {
				t.Fatalf("Mask(%q) = %q, want the encoding masked between its neighbours", in, got)
			}
			// What is left of the encoding: the characters it shares
			// with its neighbours and its padding (%3D%3D in a query),
			// and in the JSON token the token's other fields.
			rest := strings.ReplaceAll(left, Masked, "")
			if gone, want := len(tc.form)-len(rest), 4*len(secret)/3-2; gone < want {
				t.Errorf("Mask(%q) = %q: %d characters of the encoding masked, want %d or more", in, got, gone, want)
			}
			if len(rest) > 8 && !strings.Contains(tc.name, "JSON token") {
				t.Errorf("Mask(%q) = %q: %d characters of the encoding left", in, got, len(rest))
			}
		})
	}
}

// TestMaskWholeEncodingsOfShortSecrets: the base64 and hex of a secret
// under six bytes would match ordinary words by chance; they are not
// masked (the secret itself still is).
func TestMaskWholeEncodingsOfShortSecrets(t *testing.T) {
	f := secretFlow(t, "abc")
	for _, in := range []string{"YWJj", "616263", "page YWJjZA and 61626364"} {
		if got := f.Mask(in); got != in {
			t.Errorf("Mask(%q) = %q, want it unchanged", in, got)
		}
	}
	if got := f.Mask("abc"); got != Masked {
		t.Errorf("Mask(abc) = %q", got)
	}
}

// BenchmarkMaskManyFlows is the agent's log handler with 100 flows, each
// with a secret of its own: every record is masked with every flow.
func BenchmarkMaskManyFlows(b *testing.B) {
	var flows []*Flow
	for i := range 100 {
		flows = append(flows, secretFlow(b, fmt.Sprintf("Sk-%02d-aZ9qLm3XvB7nR2tY8wK4pD6hJ1", i)))
	}
	s := "GET https://shop.example.com/account/orders?page=2&session=abc&sort=date failed: net::ERR_CONNECTION_RESET"
	for b.Loop() {
		for _, f := range flows {
			f.Mask(s)
		}
	}
}
