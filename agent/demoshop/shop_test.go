package demoshop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/scenarios/examples"
)

// newServer starts a shop and returns it with a client that keeps cookies
// and does not follow redirects, so tests can see the 303s themselves.
func newServer(t *testing.T) (*Shop, *httptest.Server, *http.Client) {
	t.Helper()
	shop := New()
	srv := httptest.NewServer(shop)
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return shop, srv, client
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, client *http.Client, method, target string, form url.Values) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func checkContains(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("body lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("body:\n%s", body)
	}
}

// layoutParts are in every shop page, whatever the route.
var layoutParts = []string{
	`<meta name="viewport" content="width=device-width, initial-scale=1">`,
	` – Demo Shop</title>`,
	`<a class="logo" href="/">Demo Shop</a>`,
	`<a id="help" href="/help">Help</a>`,
	`<button id="menu" type="button" aria-controls="nav" aria-expanded="false">Menu</button>`,
	`<nav id="nav"`,
	`<a id="cart-link" href="/cart">Cart (<span id="cart-count">0</span>)</a>`,
	`href="/static/shop.css"`,
	`src="/static/shop.js"`,
}

func TestPages(t *testing.T) {
	_, srv, client := newServer(t)
	tests := []struct {
		name, path string
		status     int
		want       []string
	}{
		{"home", "/", 200, []string{
			"<h1>Demo Shop</h1>", `<form id="search" action="/search"`, `<input id="q" name="q" type="search"`,
			`<button id="search-button" type="submit">Search</button>`, `<a class="product" href="/product/lamp-1">Brass Desk Lamp</a>`,
		}},
		{"search", "/search?q=lamp", 200, []string{"<h1>Results for lamp</h1>", `<ul id="results"`, `data-query="lamp"`}},
		{"search escapes the query", "/search?q=%3Cb%3E", 200, []string{"<h1>Results for &lt;b&gt;</h1>"}},
		{"product", "/product/lamp-1", 200, []string{
			"<h1>Brass Desk Lamp</h1>", `<p id="price">$49.00</p>`,
			`<img id="hero" src="/img/lamp-1.png" width="600" height="400"`,
			`<form id="add-form" method="post" action="/cart/add">`, `name="id" value="lamp-1"`,
			`<button id="add-to-cart" type="submit">Add to cart</button>`,
		}},
		{"unknown product", "/product/nope", 404, []string{"<h1>Page not found</h1>"}},
		{"empty cart", "/cart", 200, []string{"<h1>Your cart</h1>", `<p id="empty-cart">Your cart is empty</p>`}},
		{"checkout", "/checkout", 200, []string{
			`<form id="checkout-form" method="post" action="/checkout">`,
			`<input id="email" name="email" type="email"`, `<input id="name" name="name"`, `<input id="address" name="address"`,
			`<select id="shipping" name="shipping">`, `<option value="standard">Standard</option>`, `<option value="express">Express</option>`,
			`<button id="place-order" type="submit">Place order</button>`,
		}},
		{"confirmation", "/confirmation?order=1001", 200, []string{"<h1>Thank you for your order</h1>", `<p id="order-number">Order #1001</p>`}},
		{"confirmation without order", "/confirmation", 404, []string{"<h1>Page not found</h1>"}},
		{"help", "/help", 200, []string{"<h1>Help</h1>"}},
		{"unknown path", "/nope", 404, []string{"<h1>Page not found</h1>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, client, "GET", srv.URL+tt.path, nil)
			if r.status != tt.status {
				t.Errorf("status = %d, want %d", r.status, tt.status)
			}
			if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			checkContains(t, r.body, append(tt.want, layoutParts...)...)
			if strings.Contains(r.body, "demo fault") {
				t.Error("page has the js-error script without the fault")
			}
		})
	}
}

func TestPlainRoutes(t *testing.T) {
	_, srv, client := newServer(t)
	tests := []struct {
		name, path  string
		status      int
		contentType string
		want        string
	}{
		{"healthz", "/healthz", 200, "text/plain; charset=utf-8", "ok"},
		{"css", "/static/shop.css", 200, "text/css; charset=utf-8", "@media (min-width: 768px)"},
		{"js", "/static/shop.js", 200, "text/javascript; charset=utf-8", "/api/search?q="},
		{"no directory listing", "/static/", 404, "", ""},
		{"missing static file", "/static/nope.css", 404, "", ""},
		{"favicon", "/favicon.ico", 204, "", ""},
		{"unknown image", "/img/nope.png", 404, "", ""},
		{"image without extension", "/img/lamp-1", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, client, "GET", srv.URL+tt.path, nil)
			if r.status != tt.status {
				t.Errorf("status = %d, want %d", r.status, tt.status)
			}
			if tt.contentType != "" && r.header.Get("Content-Type") != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", r.header.Get("Content-Type"), tt.contentType)
			}
			if !strings.Contains(r.body, tt.want) {
				t.Errorf("body lacks %q", tt.want)
			}
		})
	}
}

func TestSearchAPI(t *testing.T) {
	_, srv, client := newServer(t)
	tests := []struct {
		q    string
		want []string
	}{
		{"lamp", []string{"lamp-1", "lamp-2", "lamp-3"}},
		{"LAMP", []string{"lamp-1", "lamp-2", "lamp-3"}},
		{"chair", []string{"chair-1", "chair-2"}},
		{"velvet", []string{"chair-2"}},
		{"zzz", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			r := do(t, client, "GET", srv.URL+"/api/search?q="+url.QueryEscape(tt.q), nil)
			if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, Content-Type %q", r.status, r.header.Get("Content-Type"))
			}
			var got []searchResult
			if err := json.Unmarshal([]byte(r.body), &got); err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatalf("body %q: want a JSON array, also when empty", r.body)
			}
			ids := []string{}
			for _, res := range got {
				ids = append(ids, res.ID)
				if res.URL != "/product/"+res.ID || res.Name == "" || res.Price == "" {
					t.Errorf("incomplete result %+v", res)
				}
			}
			if strings.Join(ids, " ") != strings.Join(tt.want, " ") {
				t.Errorf("ids = %v, want %v", ids, tt.want)
			}
		})
	}

	r := do(t, client, "GET", srv.URL+"/api/search?q=brass", nil)
	want := `[{"id":"lamp-1","name":"Brass Desk Lamp","price":"49.00","url":"/product/lamp-1"}]`
	if r.body != want {
		t.Errorf("body = %s, want %s", r.body, want)
	}
}

func TestCheckoutJourney(t *testing.T) {
	_, srv, client := newServer(t)

	for _, id := range []string{"lamp-1", "lamp-1", "rug-1"} {
		r := do(t, client, "POST", srv.URL+"/cart/add", url.Values{"id": {id}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/cart" {
			t.Fatalf("add %s: status %d, Location %q", id, r.status, r.header.Get("Location"))
		}
	}
	r := do(t, client, "GET", srv.URL+"/cart", nil)
	checkContains(t, r.body, `<li class="cart-item" data-id="lamp-1">`, `<li class="cart-item" data-id="rug-1">`,
		`<span class="qty">2</span>`, `<p id="total">Total: $297.00</p>`, `<a id="checkout" class="button" href="/checkout">Checkout</a>`,
		`<span id="cart-count">3</span>`)
	if strings.Contains(r.body, "empty-cart") {
		t.Error("full cart shows empty-cart")
	}

	r = do(t, client, "GET", srv.URL+"/checkout", nil)
	checkContains(t, r.body, `<p id="summary">3 item(s), total $297.00</p>`)

	order := url.Values{"email": {"a@example.com"}, "name": {"Ada"}, "address": {"1 Street"}, "shipping": {"express"}}
	r = do(t, client, "POST", srv.URL+"/checkout", order)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/confirmation?order=1001" {
		t.Fatalf("place order: status %d, Location %q", r.status, r.header.Get("Location"))
	}
	r = do(t, client, "GET", srv.URL+"/confirmation?order=1001", nil)
	checkContains(t, r.body, `<p id="order-number">Order #1001</p>`, `<span id="cart-count">0</span>`)

	r = do(t, client, "GET", srv.URL+"/cart", nil)
	checkContains(t, r.body, `<p id="empty-cart">Your cart is empty</p>`)

	r = do(t, client, "POST", srv.URL+"/checkout", order)
	if r.header.Get("Location") != "/confirmation?order=1002" {
		t.Errorf("second order: Location %q, want order 1002", r.header.Get("Location"))
	}
}

func TestCartIsPerVisitor(t *testing.T) {
	_, srv, alice := newServer(t)
	do(t, alice, "POST", srv.URL+"/cart/add", url.Values{"id": {"lamp-2"}})
	bob := &http.Client{}
	r := do(t, bob, "GET", srv.URL+"/cart", nil)
	checkContains(t, r.body, `id="empty-cart"`)
}

func TestBadRequests(t *testing.T) {
	_, srv, client := newServer(t)
	full := url.Values{"email": {"a@example.com"}, "name": {"Ada"}, "address": {"1 Street"}, "shipping": {"standard"}}
	without := func(field string) url.Values {
		v := url.Values{}
		for k, vs := range full {
			if k != field {
				v[k] = vs
			}
		}
		return v
	}
	tests := []struct {
		name, path string
		form       url.Values
		status     int
		want       string
	}{
		{"no email", "/checkout", without("email"), 400, "<li>email</li>"},
		{"blank name", "/checkout", url.Values{"email": {"a@b.c"}, "name": {"  "}, "address": {"x"}}, 400, "<li>name</li>"},
		{"no address", "/checkout", without("address"), 400, "<li>address</li>"},
		{"unknown shipping", "/checkout", url.Values{"email": {"a@b.c"}, "name": {"n"}, "address": {"x"}, "shipping": {"teleport"}}, 400, "<li>shipping</li>"},
		{"unknown product", "/cart/add", url.Values{"id": {"nope"}}, 404, "Page not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, client, "POST", srv.URL+tt.path, tt.form)
			if r.status != tt.status {
				t.Errorf("status = %d, want %d", r.status, tt.status)
			}
			checkContains(t, r.body, tt.want)
		})
	}
}

func TestFaults(t *testing.T) {
	order := url.Values{"email": {"a@example.com"}, "name": {"Ada"}, "address": {"1 Street"}}
	tests := []struct {
		name   string
		faults Faults
		method string
		path   string
		form   url.Values
		status int
		want   []string
		absent []string
	}{
		{"checkout error", Faults{CheckoutError: true}, "POST", "/checkout", order, 500,
			[]string{"<h1>Something went wrong</h1>", `id="help"`}, nil},
		{"checkout error spares other pages", Faults{CheckoutError: true}, "GET", "/checkout", nil, 200,
			[]string{`id="place-order"`}, nil},
		{"missing help", Faults{MissingHelp: true}, "GET", "/", nil, 200,
			[]string{`id="nav"`, `id="menu"`}, []string{`id="help"`, `href="/help"`}},
		{"mobile overflow", Faults{MobileOverflow: true}, "GET", "/checkout", nil, 200,
			[]string{`id="promo"`, `id="place-order"`}, nil},
		{"no banner without the fault", Faults{}, "GET", "/", nil, 200,
			[]string{`id="help"`}, []string{`id="promo"`}},
		// The a11y fault's phone layout is in the page for every device:
		// its media query makes it the phone's only.
		{"a11y", Faults{A11y: true}, "GET", "/checkout", nil, 200,
			[]string{`<label for="email">`, `@media (max-width: 600px) { #place-order { background: #9bc7a8; } }`, `document.querySelectorAll("#checkout-form input")`}, nil},
		{"no phone layout without the fault", Faults{}, "GET", "/checkout", nil, 200,
			[]string{`<label for="email">`}, []string{`#9bc7a8`, `#checkout-form input`}},
		// The layout fault's banner is in the page for every device: its
		// media query shows it on phones only.
		{"layout", Faults{Layout: true}, "GET", "/checkout", nil, 200,
			[]string{`id="app-banner"`, `@media (max-width: 600px) { .app-banner { display: block;`, `id="place-order"`}, nil},
		{"no banner over the button without the fault", Faults{}, "GET", "/checkout", nil, 200,
			[]string{`id="place-order"`}, []string{`app-banner`}},
		{"js error", Faults{JSError: true}, "GET", "/product/lamp-1", nil, 200,
			[]string{`throw new Error("demo fault: something broke")`, "DOMContentLoaded", `id="hero"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shop, srv, client := newServer(t)
			shop.SetFaults(tt.faults)
			r := do(t, client, tt.method, srv.URL+tt.path, tt.form)
			if r.status != tt.status {
				t.Errorf("status = %d, want %d", r.status, tt.status)
			}
			checkContains(t, r.body, tt.want...)
			for _, a := range tt.absent {
				if strings.Contains(r.body, a) {
					t.Errorf("body has %q", a)
				}
			}
		})
	}
}

func TestDelay(t *testing.T) {
	const delay = 50 * time.Millisecond
	shop, srv, client := newServer(t)
	shop.SetFaults(Faults{Delay: delay})
	for _, path := range []string{"/", "/product/lamp-1", "/nope"} {
		start := time.Now()
		do(t, client, "GET", srv.URL+path, nil)
		// A lower bound only: an upper bound would fail on a busy machine.
		if elapsed := time.Since(start); elapsed < delay {
			t.Errorf("%s took %v, want at least %v", path, elapsed, delay)
		}
	}
}

// A browser that gives up must not leave the handler sleeping: with an hour's
// delay this test only finishes if the handler watches the request context.
func TestDelayStopsWhenRequestIsCancelled(t *testing.T) {
	shop := New()
	shop.SetFaults(Faults{Delay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, "GET", "/", nil)
	rec := httptest.NewRecorder()
	shop.ServeHTTP(rec, req)
	if rec.Body.Len() != 0 {
		t.Errorf("wrote %d bytes to a client that has gone", rec.Body.Len())
	}
}

func TestConcurrentFaults(t *testing.T) {
	shop, srv, _ := newServer(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 20 {
				shop.SetFaults(Faults{JSError: i%2 == 0})
				resp, err := http.Get(srv.URL + "/")
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				_ = shop.Faults()
			}
		})
	}
	wg.Wait()
}

func TestParseFaults(t *testing.T) {
	tests := []struct {
		spec string
		want Faults
		str  string
	}{
		{"", Faults{}, "none"},
		{"none", Faults{}, "none"},
		{" None ", Faults{}, "none"},
		{"slow", Faults{Delay: 2 * time.Second}, "slow"},
		{"slow=2s", Faults{Delay: 2 * time.Second}, "slow"},
		{"slow=750ms", Faults{Delay: 750 * time.Millisecond}, "slow=750ms"},
		{"checkout", Faults{CheckoutError: true}, "checkout"},
		{"js-error", Faults{JSError: true}, "js-error"},
		{"missing-help", Faults{MissingHelp: true}, "missing-help"},
		{"Mobile-Overflow", Faults{MobileOverflow: true}, "mobile-overflow"},
		{"A11Y", Faults{A11y: true}, "a11y"},
		{"layout", Faults{Layout: true}, "layout"},
		{"a11y,mobile-overflow", Faults{MobileOverflow: true, A11y: true}, "mobile-overflow,a11y"},
		{"missing-help, JS-Error ,checkout,slow=1m", Faults{Delay: time.Minute, CheckoutError: true, JSError: true, MissingHelp: true},
			"slow=1m0s,checkout,js-error,missing-help"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseFaults(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseFaults(%q) = %+v, want %+v", tt.spec, got, tt.want)
			}
			if s := got.String(); s != tt.str {
				t.Errorf("String() = %q, want %q", s, tt.str)
			}
			if back, err := ParseFaults(got.String()); err != nil || back != got {
				t.Errorf("ParseFaults(%q) = %+v, %v; want %+v", got.String(), back, err, got)
			}
		})
	}
}

func TestParseFaultsErrors(t *testing.T) {
	tests := []struct {
		spec, item, reason string
	}{
		{"fast", "fast", "unknown fault"},
		{"slow,bogus", "bogus", "unknown fault"},
		{"slow=soon", "slow=soon", "not a duration"},
		{"slow=-1s", "slow=-1s", "must be positive"},
		{"slow=0s", "slow=0s", "must be positive"},
		{"checkout=yes", "checkout=yes", "takes no value"},
		{"checkout,checkout", "checkout", "more than once"},
		{"slow,slow=1s", "slow=1s", "more than once"},
		{"none,checkout", "none", "cannot be combined"},
		{"checkout,,js-error", "", "empty item"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			_, err := ParseFaults(tt.spec)
			var specErr *FaultSpecError
			if !errors.As(err, &specErr) {
				t.Fatalf("ParseFaults(%q) error = %v, want a *FaultSpecError", tt.spec, err)
			}
			if specErr.Item != tt.item || !strings.Contains(specErr.Reason, tt.reason) {
				t.Errorf("got item %q reason %q, want item %q reason with %q", specErr.Item, specErr.Reason, tt.item, tt.reason)
			}
			for _, word := range []string{"none", "slow", "slow=<duration>", "checkout", "js-error", "missing-help", "mobile-overflow", "a11y", "layout"} {
				if !strings.Contains(err.Error(), word) {
					t.Errorf("error %q does not name the allowed word %q", err, word)
				}
			}
		})
	}
}

func FuzzParseFaults(f *testing.F) {
	for _, seed := range []string{"", "none", "slow", "slow=1ms", "checkout,js-error,missing-help", "slow=,", "=", ",,", "slow=9999999999h"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		got, err := ParseFaults(spec)
		if err != nil {
			return
		}
		back, err := ParseFaults(got.String())
		if err != nil || back != got {
			t.Errorf("ParseFaults(%q) = %+v, but its String %q parses to %+v, %v", spec, got, got.String(), back, err)
		}
	})
}

func TestAdmin(t *testing.T) {
	shop, srv, client := newServer(t)
	admin := srv.URL + "/admin/faults"

	r := do(t, client, "GET", admin, nil)
	checkContains(t, r.body, `<code id="current-faults">none</code>`, `<form id="faults-form" method="post" action="/admin/faults">`,
		`<input id="faults" name="faults"`, ` – Demo Shop</title>`)

	tests := []struct {
		name     string
		target   string
		form     url.Values
		status   int
		location string
		want     string
		faults   string
	}{
		{"set", admin, url.Values{"faults": {"slow=10ms,checkout"}}, 303, "/admin/faults", "", "slow=10ms,checkout"},
		{"invalid keeps faults", admin, url.Values{"faults": {"fast"}}, 400, "", `unknown fault`, "slow=10ms,checkout"},
		{"missing field keeps faults", admin, url.Values{"other": {"x"}}, 400, "", "form field faults is missing", "slow=10ms,checkout"},
		{"invalid as text", admin + "?format=text", url.Values{"faults": {"fast"}}, 400, "", `demoshop: fault "fast": unknown fault`, "slow=10ms,checkout"},
		{"clear as text", admin + "?format=text", url.Values{"faults": {"none"}}, 303, "/admin/faults?format=text", "", "none"},
		{"preset", admin, url.Values{"faults": {"missing-help"}}, 303, "/admin/faults", "", "missing-help"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, client, "POST", tt.target, tt.form)
			if r.status != tt.status || r.header.Get("Location") != tt.location {
				t.Errorf("status %d, Location %q; want %d, %q", r.status, r.header.Get("Location"), tt.status, tt.location)
			}
			checkContains(t, r.body, tt.want)
			if got := shop.Faults().String(); got != tt.faults {
				t.Errorf("faults = %q, want %q", got, tt.faults)
			}
			text := do(t, client, "GET", admin+"?format=text", nil)
			if text.body != tt.faults+"\n" || text.header.Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Errorf("text format = %q (%s), want %q", text.body, text.header.Get("Content-Type"), tt.faults+"\n")
			}
		})
	}

	// The admin page must stay usable whatever the faults do to the shop.
	shop.SetFaults(Faults{Delay: time.Hour, MissingHelp: true, JSError: true})
	r = do(t, client, "GET", admin, nil)
	if r.status != 200 || strings.Contains(r.body, "demo fault") {
		t.Errorf("admin page affected by faults: status %d", r.status)
	}
}

func TestImage(t *testing.T) {
	_, srv, client := newServer(t)
	var first []byte
	for range 2 {
		r := do(t, client, "GET", srv.URL+"/img/lamp-1.png", nil)
		if r.status != 200 || r.header.Get("Content-Type") != "image/png" {
			t.Fatalf("status %d, Content-Type %q", r.status, r.header.Get("Content-Type"))
		}
		if first == nil {
			first = []byte(r.body)
		} else if !bytes.Equal(first, []byte(r.body)) {
			t.Error("the same id gave different images")
		}
	}
	img, err := png.Decode(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 600 || b.Dy() != 400 {
		t.Errorf("size %v, want 600x400 to match the img attributes", b.Size())
	}
	// Chrome ignores low-entropy images as LCP candidates.
	colours := make(map[color.Color]bool)
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			colours[img.At(x, y)] = true
		}
	}
	if len(colours) <= 1000 {
		t.Errorf("%d distinct colours, want more than 1000", len(colours))
	}
	if other := do(t, client, "GET", srv.URL+"/img/lamp-2.png", nil); other.body == string(first) {
		t.Error("two products share an image")
	}
	if len(first) > 100<<10 {
		t.Errorf("image is %d bytes; keep it small so pages load fast", len(first))
	}
}

// The example flows are written against this shop: every id they select
// must exist on one of its pages.
func TestExampleFlowSelectorsExist(t *testing.T) {
	shop, srv, client := newServer(t)
	do(t, client, "POST", srv.URL+"/cart/add", url.Values{"id": {"lamp-1"}})
	var html strings.Builder
	for _, path := range []string{"/", "/search?q=lamp", "/product/lamp-1", "/cart", "/checkout", "/confirmation?order=1", "/help", "/login"} {
		html.WriteString(do(t, client, "GET", srv.URL+path, nil).body)
	}
	// The pages behind the login (account.go).
	passPassword(t, srv.URL, client)
	html.WriteString(do(t, client, "GET", srv.URL+"/login/code", nil).body)
	client.Jar = newJar(t)
	signIn(t, shop, srv.URL, client)
	html.WriteString(do(t, client, "GET", srv.URL+"/account", nil).body)
	upload(t, client, srv.URL+"/account/avatar", "avatar", "a.png", pngBytes(t, 8, 8))
	html.WriteString(do(t, client, "GET", srv.URL+"/account", nil).body)
	flows, err := fs.Glob(examples.FS, "*.yaml")
	if err != nil || len(flows) == 0 {
		t.Fatalf("no example flows: %v", err)
	}
	idRef := regexp.MustCompile(`#([a-z][a-z0-9-]*)`)
	for _, name := range flows {
		data, err := fs.ReadFile(examples.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue // a YAML comment
			}
			for _, m := range idRef.FindAllStringSubmatch(line, -1) {
				if !strings.Contains(html.String(), `id="`+m[1]+`"`) {
					t.Errorf("%s selects #%s, which no shop page has", name, m[1])
				}
			}
		}
	}
	// The search results are rendered by JavaScript, so check the script.
	js, err := fs.ReadFile(static, "shop.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte(`a.className = "result"`)) {
		t.Error("shop.js no longer renders a.result, which the search flow waits for")
	}
}
