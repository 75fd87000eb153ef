package runner

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/scenarios"
)

// rfc6238 is the login page's own implementation of RFC 6238 (not the
// library the runner uses), so that the test checks the runner against
// the standard and not against itself.
func rfc6238(key []byte, h func() hash.Hash, digits int, period int64, t time.Time) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(t.Unix()/period))
	mac := hmac.New(h, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0xf
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// totpLogin is a login page that accepts the current code of its key, or
// the one before (the usual one step of skew for a code typed at the end of
// its period), and records every code it was sent.
type totpLogin struct {
	key    []byte
	hash   func() hash.Hash
	digits int
	period int64
	mu     sync.Mutex
	codes  []string
}

func (l *totpLogin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Method != http.MethodPost {
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>Second factor</title>
<form method="post" action="/login"><input id="code" name="code" autocomplete="one-time-code"><button id="go">Verify</button></form>`)
		return
	}
	code := r.FormValue("code")
	l.mu.Lock()
	l.codes = append(l.codes, code)
	l.mu.Unlock()
	now := time.Now()
	ok := code == rfc6238(l.key, l.hash, l.digits, l.period, now) ||
		code == rfc6238(l.key, l.hash, l.digits, l.period, now.Add(-time.Duration(l.period)*time.Second))
	msg := "rejected"
	if ok {
		msg = "welcome"
	}
	fmt.Fprintf(w, `<!doctype html><link rel="icon" href="data:,"><title>Account</title><p id="out">%s</p>`, msg)
}

// TestTOTPLogin fills ${totp:seed} into a real login page in Chrome that
// checks the code itself: the right seed (a bare base32 seed, and an
// otpauth URI with SHA-256, 8 digits and 60 s) logs in, a wrong one fails,
// and neither the seed nor the code appears in the result.
func TestTOTPLogin(t *testing.T) {
	t.Parallel()
	key := []byte("12345678901234567890123456789012")
	b32 := strings.TrimRight(base32.StdEncoding.EncodeToString(key), "=")
	other := strings.TrimRight(base32.StdEncoding.EncodeToString([]byte("another key of 32 bytes, wrong!!")), "=")
	for _, tc := range []struct {
		name   string
		seed   string
		login  *totpLogin
		wantOK bool
	}{
		{"base32 seed, SHA-1, 6 digits, 30 s", b32, &totpLogin{key: key, hash: sha1.New, digits: 6, period: 30}, true},
		{"otpauth URI, SHA-256, 8 digits, 60 s", "otpauth://totp/shop:ann?secret=" + b32 + "&algorithm=SHA256&digits=8&period=60&issuer=shop",
			&totpLogin{key: key, hash: sha256.New, digits: 8, period: 60}, true},
		{"otpauth URI, SHA-512 against a SHA-1 site", "otpauth://totp/shop:ann?secret=" + b32 + "&algorithm=SHA512",
			&totpLogin{key: key, hash: sha1.New, digits: 6, period: 30}, false},
		{"wrong seed", other, &totpLogin{key: key, hash: sha1.New, digits: 6, period: 30}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Side by side: two of the four wait out their assertion.
			t.Parallel()
			srv := httptest.NewServer(tc.login)
			defer srv.Close()
			src := `name: totp-login
vars: {seed: "${env:TOTP_SEED}"}
secrets: [seed]
steps:
  - goto: ` + srv.URL + `/login
  - fill: {selector: "#code", value: "${totp:seed}"}
  - click: "#go"
  - assert_text: {selector: "#out", equals: welcome}
    timeout: 3s
`
			env := func(name string) (string, bool) { return tc.seed, name == "TOTP_SEED" }
			flows, err := scenarios.Parse("totp.yaml", []byte(src), scenarios.LoadOptions{LookupEnv: env})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			res := (&Runner{Browser: testBrowser}).Run(ctx, flows[0], lookup(t, "desktop"))
			tc.login.mu.Lock()
			codes := append([]string(nil), tc.login.codes...)
			tc.login.mu.Unlock()
			if len(codes) != 1 {
				t.Fatalf("the login page got codes %d times, want once", len(codes))
			}
			switch {
			case tc.wantOK && !res.Success:
				t.Fatalf("login failed: %+v", res.Error)
			case !tc.wantOK && res.Success:
				t.Fatal("login passed with the wrong seed")
			case !tc.wantOK && !strings.Contains(res.Error.Message, "rejected"):
				t.Fatalf("failed with %q, want the page's rejection", res.Error.Message)
			}
			out, _ := json.Marshal(res)
			for _, s := range []string{tc.seed, b32, other, codes[0]} {
				if strings.Contains(string(out), s) {
					t.Errorf("the result shows the secret %q: %s", s, out)
				}
			}
		})
	}
}
