package demoshop

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"image"
	_ "image/gif" // image.DecodeConfig checks an uploaded GIF
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// The demo account: fixed, public values, so that `uxprobe demo` can log in
// with a second factor and anyone can try it by hand (the seed goes into
// any authenticator app). They are documented in the README; nothing else
// ever accepts them.
const (
	DemoEmail    = "ada@example.com"
	DemoName     = "Ada Lovelace"
	DemoPassword = "probe-the-shop-22"
	// DemoTOTPSeed is base32 of "uxprobe-demo-shop-22".
	DemoTOTPSeed = "OV4HA4TPMJSS2ZDFNVXS243IN5YC2MRS"
)

// The environment variables through which `uxprobe demo` hands the demo
// account's password and seed to the example flows, as a real deployment
// hands its secrets (see DemoEnv).
const (
	EnvDemoPassword = "UXPROBE_DEMO_PASSWORD"
	EnvDemoTOTPSeed = "UXPROBE_DEMO_TOTP_SEED"
)

// DemoEnv wraps an environment lookup so that the demo account's variables
// have the demo values when the environment does not set them.
func DemoEnv(lookup func(string) (string, bool)) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if v, ok := lookup(name); ok {
			return v, ok
		}
		switch name {
		case EnvDemoPassword:
			return DemoPassword, true
		case EnvDemoTOTPSeed:
			return DemoTOTPSeed, true
		}
		return "", false
	}
}

// Bounds of the account state, which lives in the shop's memory: a client
// that logs in without end must not grow it without end.
const (
	sessionCookie  = "session"
	pendingCookie  = "login"
	sessionTTL     = 12 * time.Hour
	pendingTTL     = 5 * time.Minute
	maxSessions    = 1000
	maxCodeTries   = 5
	maxAvatarBytes = 1 << 20
	maxAvatarSide  = 4000
)

// accounts is the shop's one user's state: who is signed in, who has passed
// the password and waits for the code, the login count and the avatar.
type accounts struct {
	seed []byte

	mu       sync.Mutex
	sessions map[string]time.Time     // session id: when it started
	pending  map[string]*pendingLogin // login id: the half-done login
	logins   int64
	byAgent  map[string]int64 // logins by User-Agent, to tell devices apart
	avatar   *avatar
}

type pendingLogin struct {
	started time.Time
	tries   int
	next    string
}

type avatar struct {
	name  string
	data  []byte
	ctype string
}

func newAccounts() *accounts {
	seed, err := decodeSeed(DemoTOTPSeed)
	if err != nil {
		panic(err) // a constant
	}
	return &accounts{seed: seed, sessions: map[string]time.Time{}, pending: map[string]*pendingLogin{}, byAgent: map[string]int64{}}
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail
	return hex.EncodeToString(b[:])
}

// prune drops expired entries and, past the bound, the oldest ones. It is
// called with mu held.
func (a *accounts) prune(now time.Time) {
	for id, t := range a.sessions {
		if now.Sub(t) > sessionTTL {
			delete(a.sessions, id)
		}
	}
	for id, p := range a.pending {
		if now.Sub(p.started) > pendingTTL {
			delete(a.pending, id)
		}
	}
	for len(a.sessions) >= maxSessions {
		oldest, at := "", now
		for id, t := range a.sessions {
			if !t.After(at) {
				oldest, at = id, t
			}
		}
		delete(a.sessions, oldest)
	}
	for len(a.pending) >= maxSessions {
		for id := range a.pending {
			delete(a.pending, id)
			break
		}
	}
}

// Logins is how many logins passed the second factor since the shop
// started.
func (s *Shop) Logins() int64 {
	s.acct.mu.Lock()
	defer s.acct.mu.Unlock()
	return s.acct.logins
}

// LoginsByUserAgent is Logins by the User-Agent of the browser that logged
// in: a phone's and a desktop's differ, so a test can count logins per
// device. At most 100 user agents are told apart; the rest count as "".
func (s *Shop) LoginsByUserAgent() map[string]int64 {
	s.acct.mu.Lock()
	defer s.acct.mu.Unlock()
	out := make(map[string]int64, len(s.acct.byAgent))
	for k, v := range s.acct.byAgent {
		out[k] = v
	}
	return out
}

// signedIn returns when the request's session started, if it has one.
func (s *Shop) signedIn(r *http.Request) (time.Time, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return time.Time{}, false
	}
	s.acct.mu.Lock()
	defer s.acct.mu.Unlock()
	t, ok := s.acct.sessions[c.Value]
	if ok && s.now().Sub(t) > sessionTTL {
		delete(s.acct.sessions, c.Value)
		return time.Time{}, false
	}
	return t, ok
}

// localPath keeps a ?next= target on the shop: a path, never another site
// ("//evil.example" is a host).
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/account"
	}
	return next
}

func setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (s *Shop) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, s.Faults(), http.StatusOK, "login", &page{Title: "Sign in", Next: localPath(r.URL.Query().Get("next"))})
}

func (s *Shop) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	email := strings.TrimSpace(r.PostFormValue("email"))
	password := r.PostFormValue("password")
	next := localPath(r.PostFormValue("next"))
	// Both compared in full, so the answer's timing does not tell which
	// of the two was wrong.
	okEmail := subtle.ConstantTimeCompare([]byte(strings.ToLower(email)), []byte(DemoEmail))
	okPass := subtle.ConstantTimeCompare([]byte(password), []byte(DemoPassword))
	if okEmail&okPass != 1 {
		s.render(w, r, s.Faults(), http.StatusUnauthorized, "login", &page{
			Title: "Sign in", Next: next, Email: email, Error: "Wrong email or password.",
		})
		return
	}
	id := newID()
	now := s.now()
	s.acct.mu.Lock()
	s.acct.prune(now)
	s.acct.pending[id] = &pendingLogin{started: now, next: next}
	s.acct.mu.Unlock()
	setCookie(w, pendingCookie, id, int(pendingTTL/time.Second))
	http.Redirect(w, r, "/login/code", http.StatusSeeOther)
}

// pendingOf returns the request's half-done login, or nil.
func (s *Shop) pendingOf(r *http.Request) (string, *pendingLogin) {
	c, err := r.Cookie(pendingCookie)
	if err != nil {
		return "", nil
	}
	s.acct.mu.Lock()
	defer s.acct.mu.Unlock()
	p, ok := s.acct.pending[c.Value]
	if !ok || s.now().Sub(p.started) > pendingTTL {
		return "", nil
	}
	return c.Value, p
}

func (s *Shop) codePage(w http.ResponseWriter, r *http.Request) {
	if _, p := s.pendingOf(r); p == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.render(w, r, s.Faults(), http.StatusOK, "code", &page{Title: "Enter your code"})
}

func (s *Shop) checkCode(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	code := r.PostFormValue("code")
	id, p := s.pendingOf(r)
	if p == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	now := s.now()
	if !checkTOTP(s.acct.seed, code, now) {
		s.acct.mu.Lock()
		p.tries++
		over := p.tries >= maxCodeTries
		if over {
			delete(s.acct.pending, id) // guessing a million codes takes more than five tries
		}
		s.acct.mu.Unlock()
		msg := "That code is not right. Type the 6 digits your app shows now."
		if over {
			msg = "Too many wrong codes. Please sign in again."
		}
		s.render(w, r, s.Faults(), http.StatusUnauthorized, "code", &page{Title: "Enter your code", Error: msg})
		return
	}
	sid := newID()
	s.acct.mu.Lock()
	delete(s.acct.pending, id)
	s.acct.prune(now)
	s.acct.sessions[sid] = now
	s.acct.logins++
	ua := r.UserAgent()
	if _, known := s.acct.byAgent[ua]; !known && len(s.acct.byAgent) >= 100 {
		ua = ""
	}
	s.acct.byAgent[ua]++
	s.acct.mu.Unlock()
	setCookie(w, pendingCookie, "", -1)
	setCookie(w, sessionCookie, sid, int(sessionTTL/time.Second))
	http.Redirect(w, r, p.next, http.StatusSeeOther)
}

// accountView is what the account page shows.
type accountView struct {
	Name       string
	Logins     int64
	Since      string // RFC 3339, for the page's script to show in the user's locale
	SinceText  string // the same in UTC, for a page without script
	AvatarName string
	AvatarSize int
}

func (s *Shop) accountView(since time.Time) *accountView {
	s.acct.mu.Lock()
	defer s.acct.mu.Unlock()
	v := &accountView{
		Name: DemoName, Logins: s.acct.logins,
		Since: since.UTC().Format(time.RFC3339), SinceText: since.UTC().Format("2 Jan 2006, 15:04 UTC"),
	}
	if a := s.acct.avatar; a != nil {
		v.AvatarName, v.AvatarSize = a.name, len(a.data)
	}
	return v
}

func (s *Shop) accountPage(w http.ResponseWriter, r *http.Request) {
	since, ok := s.signedIn(r)
	if !ok {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
		return
	}
	s.render(w, r, s.Faults(), http.StatusOK, "account", &page{Title: "Your account", Account: s.accountView(since)})
}

// imageTypes are the uploads the avatar form takes, by the type
// http.DetectContentType sniffs from the bytes, never the name.
var imageTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp"}

// errNotImage says an upload is no picture the shop can show.
var errNotImage = errors.New("that file is not a PNG, JPEG, GIF or WebP picture")

// readAvatar reads the form's avatar file and checks that it is an image.
func readAvatar(w http.ResponseWriter, r *http.Request) (*avatar, int, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxAvatarBytes+maxFormBytes)
	f, hdr, err := r.FormFile("avatar")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, errors.New("that picture is larger than 1 MB")
		}
		return nil, http.StatusBadRequest, errors.New("choose a picture to upload")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxAvatarBytes+1))
	switch {
	case err != nil:
		return nil, http.StatusBadRequest, errors.New("the upload could not be read")
	case len(data) > maxAvatarBytes:
		return nil, http.StatusRequestEntityTooLarge, errors.New("that picture is larger than 1 MB")
	case len(data) == 0:
		return nil, http.StatusBadRequest, errors.New("that file is empty")
	}
	ctype := http.DetectContentType(data)
	known := false
	for _, t := range imageTypes {
		known = known || ctype == t
	}
	if !known {
		return nil, http.StatusUnsupportedMediaType, errNotImage
	}
	if ctype != "image/webp" { // the standard library has no WebP decoder; the sniffed header must do
		// The whole picture is decoded, not only its header, but after
		// its size is checked: a small file may claim a huge canvas.
		cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err == nil && (cfg.Width > maxAvatarSide || cfg.Height > maxAvatarSide) {
			return nil, http.StatusUnsupportedMediaType, errors.New("that picture is larger than 4000x4000 pixels")
		}
		if err == nil {
			_, _, err = image.Decode(bytes.NewReader(data))
		}
		if err != nil {
			return nil, http.StatusUnsupportedMediaType, errNotImage
		}
	}
	return &avatar{name: displayName(hdr.Filename), data: data, ctype: ctype}, http.StatusOK, nil
}

// displayName is the uploaded file's base name as the page shows it:
// valid UTF-8, at most 100 characters.
func displayName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.ToValidUTF8(name, "?")
	if utf8.RuneCountInString(name) > 100 {
		name = string([]rune(name)[:100])
	}
	if name == "." || name == "/" {
		return "picture"
	}
	return name
}

func (s *Shop) uploadAvatar(w http.ResponseWriter, r *http.Request) {
	since, ok := s.signedIn(r)
	if !ok {
		http.Redirect(w, r, "/login?next=%2Faccount", http.StatusSeeOther)
		return
	}
	a, status, err := readAvatar(w, r)
	if err != nil {
		v := s.accountView(since)
		msg := strings.ToUpper(err.Error()[:1]) + err.Error()[1:] + "."
		s.render(w, r, s.Faults(), status, "account", &page{Title: "Your account", Account: v, Error: msg})
		return
	}
	s.acct.mu.Lock()
	s.acct.avatar = a
	s.acct.mu.Unlock()
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

func (s *Shop) avatarImage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.signedIn(r); !ok {
		http.NotFound(w, r)
		return
	}
	s.acct.mu.Lock()
	a := s.acct.avatar
	s.acct.mu.Unlock()
	if a == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Content-Length", strconv.Itoa(len(a.data)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(a.data)
}

func (s *Shop) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.acct.mu.Lock()
		delete(s.acct.sessions, c.Value)
		s.acct.mu.Unlock()
	}
	setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
