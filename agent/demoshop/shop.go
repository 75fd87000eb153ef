// Package demoshop is a small web shop that the uxprobe binary serves itself,
// so that `uxprobe demo`, the browser tests and the benchmarks have a site
// with real navigation, JavaScript rendering, forms and web vitals to probe
// without any network. Deliberate failures can be switched on with Faults.
//
// Everything is embedded and the handlers do little work, because benchmarks
// subtract the shop's own time from what the browser measured.
package demoshop

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

//go:embed static templates
var files embed.FS

// pageNames are the templates rendered inside the shared layout.
var pageNames = []string{"home", "search", "product", "cart", "checkout", "confirmation", "help", "error", "login", "code", "account"}

var (
	pages     = parsePages()
	adminPage = template.Must(template.ParseFS(files, "templates/admin.html"))
	static    = mustSub(files, "static")
)

// parsePages gives each page its own template set, because every page
// defines the same "content" block for the layout to call.
func parsePages() map[string]*template.Template {
	m := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		m[name] = template.Must(template.ParseFS(files, "templates/layout.html", "templates/"+name+".html"))
	}
	return m
}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// Bounds that keep a misbehaving client from making the shop do real work.
const (
	maxFormBytes = 16 << 10
	maxCartItems = 50
)

// Shop is the demo web shop. It is an http.Handler and is safe for
// concurrent use; create it with New.
type Shop struct {
	mux    *http.ServeMux
	faults atomic.Pointer[Faults]
	orders atomic.Int64
	acct   *accounts // account.go
	// now is the shop's clock, for the one-time codes; tests move it.
	now func() time.Time
}

// New returns a shop with no faults switched on.
func New() *Shop {
	s := &Shop{acct: newAccounts(), now: time.Now}
	s.faults.Store(&Faults{})
	// Order numbers look like a shop that has been running for a while.
	s.orders.Store(1000)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /search", s.searchPage)
	mux.HandleFunc("GET /api/search", s.searchAPI)
	mux.HandleFunc("GET /product/{id}", s.productPage)
	mux.HandleFunc("GET /img/{file}", s.image)
	mux.HandleFunc("POST /cart/add", s.addToCart)
	mux.HandleFunc("GET /cart", s.cartPage)
	mux.HandleFunc("GET /checkout", s.checkoutPage)
	mux.HandleFunc("POST /checkout", s.placeOrder)
	mux.HandleFunc("GET /confirmation", s.confirmation)
	mux.HandleFunc("GET /help", s.help)
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("GET /login/code", s.codePage)
	mux.HandleFunc("POST /login/code", s.checkCode)
	mux.HandleFunc("GET /account", s.accountPage)
	mux.HandleFunc("POST /account/avatar", s.uploadAvatar)
	mux.HandleFunc("GET /account/avatar", s.avatarImage)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /favicon.ico", noContent)
	mux.Handle("GET /static/", staticHandler())
	mux.HandleFunc("GET /admin/faults", s.adminFaults)
	mux.HandleFunc("POST /admin/faults", s.setAdminFaults)
	mux.HandleFunc("/", s.notFound)
	s.mux = mux
	return s
}

// ServeHTTP serves the shop's pages, API, images and static files.
func (s *Shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// SetFaults replaces the faults in effect; requests already being served keep
// the faults they started with.
func (s *Shop) SetFaults(f Faults) {
	s.faults.Store(&f)
}

// Faults returns the faults in effect.
func (s *Shop) Faults() Faults {
	return *s.faults.Load()
}

// page is everything any template needs; each page uses a few fields.
type page struct {
	Title     string
	Help      bool
	JSError   bool
	Promo     bool // the mobile-overflow fault's banner
	A11yFault bool // the a11y fault's phone layout
	// LayoutFault is the layout fault's banner over checkout's button.
	LayoutFault bool
	CartCount   int

	Query    string
	Products []product
	Product  product
	Items    []cartLine
	Total    string
	Order    int64
	Heading  string
	Message  string
	Missing  []string

	// The login and account pages (account.go).
	Next    string
	Email   string
	Error   string
	Account *accountView
}

// render writes an HTML document. Faults apply here, and only here, because
// they model a slow or broken site as a user sees it: a document arrives late
// or is missing something, while images, scripts and the API stay fast.
func (s *Shop) render(w http.ResponseWriter, r *http.Request, f Faults, status int, name string, p *page) {
	if !wait(r.Context(), f.Delay) {
		return // the client has gone; nobody is left to answer
	}
	p.Help = !f.MissingHelp
	p.JSError = f.JSError
	p.Promo = f.MobileOverflow
	p.A11yFault = f.A11y
	p.LayoutFault = f.Layout
	p.CartCount = len(readCart(r))
	writeHTML(w, status, pages[name], "layout", p)
}

// writeHTML renders a template in full before it writes anything, so that a
// template error becomes a clean 500 and not half a page. Pages show the
// cart count and the fault switches, so a cached copy would be wrong.
func writeHTML(w http.ResponseWriter, status int, t *template.Template, name string, data any) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "demoshop: rendering "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// wait sleeps for d unless ctx ends first, so that a browser that gave up
// does not leave a goroutine sleeping. It reports whether to go on.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Shop) home(w http.ResponseWriter, r *http.Request) {
	p := &page{Title: "Welcome"}
	for _, id := range featured {
		prod, _ := lookup(id)
		p.Products = append(p.Products, prod)
	}
	s.render(w, r, s.Faults(), http.StatusOK, "home", p)
}

func (s *Shop) searchPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	s.render(w, r, s.Faults(), http.StatusOK, "search", &page{Title: "Search", Query: q})
}

// searchResult is the JSON the search page's script renders.
type searchResult struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Price string `json:"price"`
	URL   string `json:"url"`
}

func (s *Shop) searchAPI(w http.ResponseWriter, r *http.Request) {
	found := search(r.URL.Query().Get("q"))
	out := make([]searchResult, 0, len(found))
	for _, p := range found {
		out = append(out, searchResult{ID: p.ID, Name: p.Name, Price: p.Price(), URL: p.URL()})
	}
	body, err := json.Marshal(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.Write(body)
}

func (s *Shop) productPage(w http.ResponseWriter, r *http.Request) {
	prod, ok := lookup(r.PathValue("id"))
	if !ok {
		s.notFound(w, r)
		return
	}
	s.render(w, r, s.Faults(), http.StatusOK, "product", &page{Title: prod.Name, Product: prod})
}

func (s *Shop) image(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("file"), ".png")
	if _, known := lookup(id); !ok || !known {
		// A bare 404: an image request has no one to read an error page.
		http.NotFound(w, r)
		return
	}
	body := productImage(id)
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.Write(body)
}

// cartLine is one product in the cart with how many of it.
type cartLine struct {
	Product  product
	Qty      int
	Subtotal string
}

// The cart lives in a cookie, not on the server, so that parallel browser
// contexts are isolated from each other and the shop keeps no state per
// visitor. Ids are joined with "." because net/http quotes cookie values
// that contain a comma.
const (
	cartCookie = "cart"
	cartSep    = "."
)

// readCart returns the ids in the visitor's cart, dropping any that are not
// in the catalogue.
func readCart(r *http.Request) []string {
	c, err := r.Cookie(cartCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	var ids []string
	for id := range strings.SplitSeq(c.Value, cartSep) {
		if _, ok := lookup(id); ok && len(ids) < maxCartItems {
			ids = append(ids, id)
		}
	}
	return ids
}

func writeCart(w http.ResponseWriter, ids []string) {
	c := &http.Cookie{
		Name:     cartCookie,
		Value:    strings.Join(ids, cartSep),
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	if len(ids) == 0 {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// cartLines groups the ids by product in the order they were first added,
// and returns the total.
func cartLines(ids []string) ([]cartLine, string) {
	var lines []cartLine
	total := 0
	for _, id := range ids {
		prod, _ := lookup(id)
		total += prod.Cents
		i := slices.IndexFunc(lines, func(l cartLine) bool { return l.Product.ID == id })
		if i < 0 {
			lines = append(lines, cartLine{Product: prod})
			i = len(lines) - 1
		}
		lines[i].Qty++
	}
	for i := range lines {
		lines[i].Subtotal = formatCents(lines[i].Qty * lines[i].Product.Cents)
	}
	return lines, formatCents(total)
}

func (s *Shop) addToCart(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	id := r.PostFormValue("id")
	if _, ok := lookup(id); !ok {
		s.notFound(w, r)
		return
	}
	ids := readCart(r)
	if len(ids) >= maxCartItems {
		s.render(w, r, s.Faults(), http.StatusBadRequest, "error", &page{
			Title: "Cart full", Heading: "Your cart is full",
			Message: "A cart holds at most " + strconv.Itoa(maxCartItems) + " items.",
		})
		return
	}
	writeCart(w, append(ids, id))
	http.Redirect(w, r, "/cart", http.StatusSeeOther)
}

func (s *Shop) cartPage(w http.ResponseWriter, r *http.Request) {
	ids := readCart(r)
	p := &page{Title: "Cart"}
	p.Items, p.Total = cartLines(ids)
	s.render(w, r, s.Faults(), http.StatusOK, "cart", p)
}

func (s *Shop) checkoutPage(w http.ResponseWriter, r *http.Request) {
	ids := readCart(r)
	p := &page{Title: "Checkout"}
	p.Items, p.Total = cartLines(ids)
	s.render(w, r, s.Faults(), http.StatusOK, "checkout", p)
}

func (s *Shop) placeOrder(w http.ResponseWriter, r *http.Request) {
	f := s.Faults()
	if f.CheckoutError {
		s.render(w, r, f, http.StatusInternalServerError, "error", &page{
			Title: "Error", Heading: "Something went wrong",
			Message: "We could not place your order. Please try again later.",
		})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.render(w, r, f, http.StatusBadRequest, "error", &page{
			Title: "Bad request", Heading: "Please check your order", Message: "The form could not be read.",
		})
		return
	}
	var missing []string
	for _, field := range []string{"email", "name", "address"} {
		if strings.TrimSpace(r.PostForm.Get(field)) == "" {
			missing = append(missing, field)
		}
	}
	if ship := r.PostForm.Get("shipping"); ship != "" && ship != "standard" && ship != "express" {
		missing = append(missing, "shipping")
	}
	if len(missing) > 0 {
		s.render(w, r, f, http.StatusBadRequest, "error", &page{
			Title: "Check your order", Heading: "Please check your order",
			Message: "Some fields are missing or invalid:", Missing: missing,
		})
		return
	}
	n := s.orders.Add(1)
	writeCart(w, nil)
	http.Redirect(w, r, "/confirmation?order="+strconv.FormatInt(n, 10), http.StatusSeeOther)
}

func (s *Shop) confirmation(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseInt(r.URL.Query().Get("order"), 10, 64)
	if err != nil || n <= 0 {
		s.notFound(w, r)
		return
	}
	s.render(w, r, s.Faults(), http.StatusOK, "confirmation", &page{Title: "Order placed", Order: n})
}

func (s *Shop) help(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, s.Faults(), http.StatusOK, "help", &page{Title: "Help"})
}

func (s *Shop) notFound(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, s.Faults(), http.StatusNotFound, "error", &page{
		Title: "Not found", Heading: "Page not found", Message: "There is nothing at this address.",
	})
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// noContent answers requests browsers make on their own, so that they do not
// count as failed requests in a flow's metrics.
func noContent(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusNoContent)
}

// staticHandler serves the embedded CSS and JavaScript. It refuses
// directories rather than list them.
func staticHandler() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		// Every run starts with an empty browser profile, so caching only
		// spares requests within one run, as a real shop's assets would.
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// adminView is what the admin page shows.
type adminView struct {
	Current string
	Spec    string
	Error   string
	Presets []string
}

var presets = []string{"none", "slow", "checkout", "js-error", "missing-help", "mobile-overflow", "a11y", "layout"}

// The admin page is outside the shop's layout and ignores the faults, so
// that a person can always switch a fault off again, however broken or slow
// the shop has been made.
func (s *Shop) adminFaults(w http.ResponseWriter, r *http.Request) {
	spec := s.Faults().String()
	if r.URL.Query().Get("format") == "text" {
		writeText(w, http.StatusOK, spec)
		return
	}
	writeAdmin(w, http.StatusOK, adminView{Current: spec, Spec: spec, Presets: presets})
}

func (s *Shop) setAdminFaults(w http.ResponseWriter, r *http.Request) {
	text := r.URL.Query().Get("format") == "text"
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	var spec string
	err := r.ParseForm()
	if err == nil && !r.PostForm.Has("faults") {
		// An empty form must not silently clear the faults.
		err = errors.New("demoshop: the form field faults is missing")
	}
	var f Faults
	if err == nil {
		spec = r.PostForm.Get("faults")
		f, err = ParseFaults(spec)
	}
	if err != nil {
		if text {
			writeText(w, http.StatusBadRequest, err.Error())
			return
		}
		writeAdmin(w, http.StatusBadRequest, adminView{
			Current: s.Faults().String(), Spec: spec, Error: err.Error(), Presets: presets,
		})
		return
	}
	s.SetFaults(f)
	back := "/admin/faults"
	if text {
		back += "?format=text"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func writeAdmin(w http.ResponseWriter, status int, v adminView) {
	writeHTML(w, status, adminPage, "admin", v)
}

func writeText(w http.ResponseWriter, status int, s string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(s + "\n"))
}
