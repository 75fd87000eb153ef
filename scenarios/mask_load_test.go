package scenarios

import (
	"encoding/json"
	"html"
	"net/url"
	"strings"
	"testing"
)

func jsonQuoted(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

// TestLoadErrorsMaskSecrets: a flow file with a mistake must not print the
// secrets it reads from the environment: `validate`, `check`, the agent's
// logs and the /-/reload answer all show these errors.
func TestLoadErrorsMaskSecrets(t *testing.T) {
	const secret = "EnvSecretValue-Qz81"
	env := func(name string) (string, bool) {
		switch name {
		case "TOKEN":
			return secret, true
		case "SHORT":
			return "ab", true
		}
		return "", false
	}
	tests := []struct{ name, yaml string }{
		{"declared secret in a selector", "name: t\nvars: {token: '${env:TOKEN}'}\nsecrets: [token]\nsteps:\n  - click: '${token}[[['\n"},
		{"env value used directly", "name: t\nsteps:\n  - click: '${env:TOKEN}[[['\n"},
		{"env value in a var not declared secret", "name: t\nvars: {v: 'x${env:TOKEN}'}\nsteps:\n  - click: '${v}[[['\n"},
		{"http_credentials password", "name: t\nvars: {p: '${env:TOKEN}'}\nhttp_credentials: {username: u, password: '${p}'}\nsteps:\n  - click: '${p}[[['\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.yaml), LoadOptions{LookupEnv: env})
			if err == nil {
				t.Fatal("the flow should be invalid")
			}
			msg := err.Error()
			if strings.Contains(msg, secret[:8]) || strings.Contains(msg, secret[8:]) {
				t.Errorf("the load error shows the secret: %s", msg)
			}
			if !strings.Contains(msg, Masked) {
				t.Errorf("the load error should show where the secret was: %s", msg)
			}
		})
	}
	// A value too short to be a secret stays, so that errors remain
	// readable (a port, a flag).
	_, err := Parse("t.yaml", []byte("name: t\nsteps:\n  - click: '${env:SHORT}[[['\n"), LoadOptions{LookupEnv: env})
	if err == nil || !strings.Contains(err.Error(), "ab[[[") {
		t.Errorf("a short environment value should stay: %v", err)
	}
}

// TestMaskLongSecrets: a secret longer than any bound of the matcher (a
// JWT, a certificate) is masked like a short one, in every form.
func TestMaskLongSecrets(t *testing.T) {
	for _, n := range []int{4095, 4097, 20000} {
		var b strings.Builder
		for i := 0; b.Len() < n; i++ {
			b.WriteByte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=&\"<"[i*7%68])
		}
		secret := b.String()
		f := secretFlow(t, secret)
		for name, form := range map[string]string{
			"raw":   secret,
			"query": url.QueryEscape(secret),
			"json":  jsonQuoted(secret),
			"html":  html.EscapeString(secret),
		} {
			got := f.Mask("before " + form + " after")
			if got != "before *** after" {
				t.Errorf("%d chars, %s: not masked: %.80q", n, name, got)
			}
		}
	}
}

// TestMaskHostileInputFailsClosed: an input built to make matching a long
// secret quadratic (runs of the secret's prefix, each broken at its end)
// either is shown to hold no secret or is masked from where the matcher
// gave up: never a secret let through because the work ran out.
func TestMaskHostileInputFailsClosed(t *testing.T) {
	secret := strings.Repeat("a", 5000) + "Z"
	f := secretFlow(t, secret)
	hostile := strings.Repeat(strings.Repeat("a", 4999)+"b", 20) + secret + "tail"
	got := f.Mask(hostile)
	if strings.Contains(got, "Z") && !strings.Contains(got, Masked) {
		t.Fatalf("the secret went through: %.80q…", got[len(got)-80:])
	}
	if strings.Contains(got, secret) {
		t.Fatal("the secret went through")
	}
}

// BenchmarkMaskHostileLong: the worst input for a long secret must stay
// bounded (compare with BenchmarkMask).
func BenchmarkMaskHostileLong(b *testing.B) {
	secret := strings.Repeat("a", 5000) + "Z"
	f := secretFlow(b, secret)
	hostile := strings.Repeat(strings.Repeat("a", 4999)+"b", 20)
	for b.Loop() {
		f.Mask(hostile)
	}
}

// BenchmarkMaskLongSecret: a page of ordinary text masked with a 5,000
// character secret that it does not hold.
func BenchmarkMaskLongSecret(b *testing.B) {
	secret := strings.Repeat("tok3n.", 1000)
	f := secretFlow(b, secret)
	s := strings.Repeat("GET https://shop.example.com/account/orders?page=2&sort=date failed: net::ERR_CONNECTION_RESET ", 100)
	for b.Loop() {
		f.Mask(s)
	}
}

// TestMaskFragments: a long piece of a secret is masked where the whole
// secret is not (a name the browser shortened, a message cut by the
// page), and a download name with the characters browsers replace by "_".
func TestMaskFragments(t *testing.T) {
	const secret = `tok3n-Zq81/Wv"x<4>-Rb77öPa`
	f := secretFlow(t, secret)
	tests := []struct{ name, in, want string }{
		{"whole", "a " + secret + " b", "a *** b"},
		{"a prefix cut by a page", "a " + secret[:14] + "…", "a ***…"},
		{"a middle piece", "x" + secret[5:20] + "y", "x***y"},
		{"a download name", "tok3n-Zq81_Wv_x_4_-Rb77öPa.csv", "***.csv"},
		{"short pieces stay", "tok3n-Zq81 and -Rb77öPa", "tok3n-Zq81 and -Rb77öPa"},
		{"two pieces", secret[:13] + " / " + secret[10:24], "*** / ***"},
		{"a piece ending inside a character", "x" + secret[12:25] + "\xb6y", "x***y"},
	}
	for _, tc := range tests {
		if got := f.Mask(tc.in); got != tc.want {
			t.Errorf("%s: Mask(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

// BenchmarkMaskHostileEncoded: the worst input for a long secret's base64
// and hex forms (their repeated start, never finished) must stay bounded
// as the raw form's does: the forms share one budget.
func BenchmarkMaskHostileEncoded(b *testing.B) {
	secret := strings.Repeat("a", 5000) + "Z"
	f := secretFlow(b, secret)
	// Each form's own worst: the raw one, base64 at its three offsets,
	// and hex, one after another.
	var hostile strings.Builder
	for _, form := range wholeForms(secret) {
		hostile.WriteString(strings.Repeat(form.text[:len(form.text)-8]+"-", 4))
	}
	for b.Loop() {
		f.Mask(hostile.String())
	}
}
