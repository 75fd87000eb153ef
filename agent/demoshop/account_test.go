package demoshop

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TestHOTPVectors checks the shop's own one-time codes against RFC 6238's
// SHA-1 test vectors (Appendix B), whose last 6 digits are the 6-digit
// codes.
func TestHOTPVectors(t *testing.T) {
	key := []byte("12345678901234567890")
	for _, v := range []struct {
		unix int64
		code string
	}{
		{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"},
		{1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"},
	} {
		if got := totpAt(key, time.Unix(v.unix, 0)); got != v.code {
			t.Errorf("code at %d = %s, want %s", v.unix, got, v.code)
		}
	}
}

// libraryCode is the demo seed's code at t as the agent computes it, with
// the library the shop deliberately does not use.
func libraryCode(t *testing.T, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(DemoTOTPSeed, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// fixedClock stops the shop's clock at t.
func fixedClock(s *Shop, t time.Time) { s.now = func() time.Time { return t } }

// passPassword signs in with the demo email and password, leaving the
// client at the code page.
func passPassword(t *testing.T, srv string, client *http.Client) {
	t.Helper()
	r := do(t, client, "POST", srv+"/login", url.Values{"email": {DemoEmail}, "password": {DemoPassword}, "next": {"/account"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login/code" {
		t.Fatalf("password step: %d to %q, want 303 to /login/code", r.status, r.header.Get("Location"))
	}
}

// signIn passes both factors.
func signIn(t *testing.T, shop *Shop, srv string, client *http.Client) {
	t.Helper()
	passPassword(t, srv, client)
	r := do(t, client, "POST", srv+"/login/code", url.Values{"code": {libraryCode(t, shop.now())}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account" {
		t.Fatalf("code step: %d to %q, want 303 to /account\n%s", r.status, r.header.Get("Location"), r.body)
	}
}

func TestLoginWithSecondFactor(t *testing.T) {
	shop, srv, client := newServer(t)
	now := time.Date(2026, 12, 7, 14, 0, 10, 0, time.UTC) // 10 s into a window
	fixedClock(shop, now)

	r := do(t, client, "GET", srv.URL+"/account", nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login?next=%2Faccount" {
		t.Fatalf("account without a session: %d to %q, want 303 to the login", r.status, r.header.Get("Location"))
	}
	r = do(t, client, "GET", srv.URL+"/login?next=%2Faccount", nil)
	checkContains(t, r.body, `<form id="login-form"`, `<input id="email"`, `<input id="password" name="password" type="password"`,
		`<button id="sign-in"`, `name="next" value="/account"`)

	for _, bad := range []url.Values{
		{"email": {DemoEmail}, "password": {"wrong"}},
		{"email": {"eve@example.com"}, "password": {DemoPassword}},
		{"email": {DemoEmail}},
	} {
		r = do(t, client, "POST", srv.URL+"/login", bad)
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "Wrong email or password") {
			t.Errorf("login with %v: %d, want 401 saying so", bad, r.status)
		}
	}
	if r := do(t, client, "GET", srv.URL+"/login/code", nil); r.status != http.StatusSeeOther {
		t.Errorf("code page before the password: %d, want a redirect to the login", r.status)
	}

	passPassword(t, srv.URL, client)
	r = do(t, client, "GET", srv.URL+"/login/code", nil)
	checkContains(t, r.body, `<input id="code" name="code" inputmode="numeric"`, `autocomplete="one-time-code"`, `<button id="verify"`)

	step := 30 * time.Second
	tests := []struct {
		name string
		code string
		want int
	}{
		{"not digits", "abcdef", http.StatusUnauthorized},
		{"too short", "12345", http.StatusUnauthorized},
		{"two windows ago", libraryCode(t, now.Add(-2*step)), http.StatusUnauthorized},
		{"two windows ahead", libraryCode(t, now.Add(2*step)), http.StatusUnauthorized},
		{"the previous window", libraryCode(t, now.Add(-step)), http.StatusSeeOther},
	}
	for _, tt := range tests {
		r = do(t, client, "POST", srv.URL+"/login/code", url.Values{"code": {tt.code}})
		if r.status != tt.want {
			t.Errorf("%s (%s): %d, want %d", tt.name, tt.code, r.status, tt.want)
		}
		if tt.want == http.StatusUnauthorized && !strings.Contains(r.body, `id="code-error"`) {
			t.Errorf("%s: no error shown", tt.name)
		}
	}
	if shop.Logins() != 1 {
		t.Fatalf("Logins() = %d after one login, want 1", shop.Logins())
	}
	r = do(t, client, "GET", srv.URL+"/account", nil)
	checkContains(t, r.body, `<span id="account-name">`+DemoName+`</span>`, `<b id="login-count">1</b>`,
		`<time id="signed-in-at" datetime="2026-12-07T14:00:10Z" data-local>7 Dec 2026, 14:00 UTC</time>`,
		`<input id="avatar" name="avatar" type="file"`, `<p id="avatar-info">No avatar yet.</p>`)

	// A second device logs in in the next window: the count says two.
	other := *client
	other.Jar = newJar(t)
	fixedClock(shop, now.Add(step))
	signIn(t, shop, srv.URL, &other)
	r = do(t, &other, "GET", srv.URL+"/account", nil)
	checkContains(t, r.body, `<b id="login-count">2</b>`)
	if by := shop.LoginsByUserAgent(); len(by) != 1 || by["Go-http-client/1.1"] != 2 {
		t.Errorf("LoginsByUserAgent() = %v, want both logins under Go's user agent", by)
	}

	// Sign out: the session is gone on the server, not only the cookie.
	sid := cookieValue(t, client, srv.URL, sessionCookie)
	if r := do(t, client, "POST", srv.URL+"/logout", nil); r.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.status)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/account", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sid})
	resp, err := (&http.Client{CheckRedirect: client.CheckRedirect}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the old session still opens the account after logout: %d", resp.StatusCode)
	}
}

func TestTooManyWrongCodes(t *testing.T) {
	shop, srv, client := newServer(t)
	fixedClock(shop, time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC))
	passPassword(t, srv.URL, client)
	for i := range maxCodeTries {
		r := do(t, client, "POST", srv.URL+"/login/code", url.Values{"code": {"000000"}})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i+1, r.status)
		}
	}
	// Even the right code no longer helps: the login starts again.
	r := do(t, client, "POST", srv.URL+"/login/code", url.Values{"code": {libraryCode(t, shop.now())}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Errorf("right code after %d wrong ones: %d to %q, want 303 to /login", maxCodeTries, r.status, r.header.Get("Location"))
	}
	if shop.Logins() != 0 {
		t.Errorf("Logins() = %d", shop.Logins())
	}
}

func TestNextStaysOnTheShop(t *testing.T) {
	for in, want := range map[string]string{
		"/account": "/account", "/cart?x=1": "/cart?x=1", "": "/account",
		"//evil.example/": "/account", "https://evil.example/": "/account", "/\\evil.example": "/account",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{200, 50, 50, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// upload posts a multipart form with one file as the avatar form does.
func upload(t *testing.T, client *http.Client, target, field, name string, data []byte) response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if field != "" {
		fw, err := mw.CreateFormFile(field, name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	mw.Close()
	req, err := http.NewRequest("POST", target, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return response{resp.StatusCode, resp.Header, b.String()}
}

func TestAvatarUpload(t *testing.T) {
	shop, srv, client := newServer(t)
	pic := pngBytes(t, 64, 64)
	if r := upload(t, client, srv.URL+"/account/avatar", "avatar", "me.png", pic); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Fatalf("upload without a session: %d to %q, want a redirect to the login", r.status, r.header.Get("Location"))
	}
	signIn(t, shop, srv.URL, client)

	gifHeaderOnly := []byte("GIF89a\x01\x00\x01\x00garbage that is no picture")
	tests := []struct {
		name, field, file string
		data              []byte
		want              int
		msg               string
	}{
		{"text named .png", "avatar", "evil.png", []byte("<script>alert(1)</script> not a picture"), http.StatusUnsupportedMediaType, "not a PNG, JPEG, GIF or WebP picture"},
		{"a GIF header and nothing else", "avatar", "x.gif", gifHeaderOnly, http.StatusUnsupportedMediaType, "not a PNG, JPEG, GIF or WebP picture"},
		{"empty", "avatar", "empty.png", nil, http.StatusBadRequest, "That file is empty"},
		{"no file", "", "", nil, http.StatusBadRequest, "Choose a picture"},
		{"too large", "avatar", "big.png", append(pic, make([]byte, maxAvatarBytes)...), http.StatusRequestEntityTooLarge, "larger than 1 MB"},
		{"a canvas too large", "avatar", "wide.png", pngBytes(t, maxAvatarSide+1, 1), http.StatusUnsupportedMediaType, "larger than 4000x4000 pixels"},
		{"a PNG", "avatar", `C:\Users\ada\Pictures\me <1>.png`, pic, http.StatusSeeOther, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := upload(t, client, srv.URL+"/account/avatar", tt.field, tt.file, tt.data)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d\n%s", r.status, tt.want, r.body)
			}
			if tt.msg != "" {
				checkContains(t, r.body, `id="upload-error"`, tt.msg)
			}
		})
	}
	// The account page shows the name, escaped and without the client's
	// folders, and the size in bytes; the picture itself is served back.
	r := do(t, client, "GET", srv.URL+"/account", nil)
	checkContains(t, r.body, `<span id="avatar-name">me &lt;1&gt;.png</span>`, `<span id="avatar-size">`+strconv.Itoa(len(pic))+`</span> bytes`,
		`<img id="avatar-image" src="/account/avatar"`)
	img := do(t, client, "GET", srv.URL+"/account/avatar", nil)
	if img.status != 200 || img.header.Get("Content-Type") != "image/png" || img.body != string(pic) {
		t.Errorf("avatar served back: %d %q, %d bytes", img.status, img.header.Get("Content-Type"), len(img.body))
	}
}

func TestDemoEnv(t *testing.T) {
	env := DemoEnv(fakeLookup(map[string]string{EnvDemoPassword: "from-env"}))
	if v, _ := env(EnvDemoPassword); v != "from-env" {
		t.Errorf("a set variable must win, got %q", v)
	}
	if v, ok := env(EnvDemoTOTPSeed); !ok || v != DemoTOTPSeed {
		t.Errorf("seed = %q, %v; want the demo seed", v, ok)
	}
	if _, ok := env("HOME_OF_NOBODY"); ok {
		t.Error("other variables must stay unset")
	}
}

func fakeLookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func newJar(t *testing.T) http.CookieJar {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}

func cookieValue(t *testing.T, client *http.Client, site, name string) string {
	t.Helper()
	u, _ := url.Parse(site)
	for _, c := range client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	t.Fatalf("no cookie %s", name)
	return ""
}
