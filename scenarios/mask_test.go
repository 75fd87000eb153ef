package scenarios

import (
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
