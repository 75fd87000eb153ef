package runner

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/uxprobe/uxprobe/scenarios"
)

// apiServer records the API calls of request steps and answers them.
type apiServer struct {
	*httptest.Server
	mu    sync.Mutex
	calls []string
}

func newAPIServer(t *testing.T, tlsServer bool) *apiServer {
	t.Helper()
	a := &apiServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s-42", Path: "/"})
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>Logged in</title><h1>Hello</h1>`)
	})
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c, _ := r.Cookie("session")
		session := ""
		if c != nil {
			session = c.Value
		}
		a.mu.Lock()
		a.calls = append(a.calls, fmt.Sprintf("%s %s session=%s x=%s body=%s", r.Method, r.URL.Path, session, r.Header.Get("X-Token"), body))
		a.mu.Unlock()
		switch r.URL.Path {
		case "/api/missing":
			http.NotFound(w, r)
		case "/api/created":
			w.WriteHeader(http.StatusCreated)
		}
	})
	if tlsServer {
		a.Server = httptest.NewUnstartedServer(mux)
		// Chrome refusing the certificate is what the test wants, not news.
		a.Config.ErrorLog = log.New(io.Discard, "", 0)
		a.StartTLS()
	} else {
		a.Server = httptest.NewServer(mux)
	}
	t.Cleanup(a.Close)
	return a
}

func (a *apiServer) callLog() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strings.Join(a.calls, "\n")
}

func TestRequestStep(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := l.Addr().String()
	l.Close()
	tests := []struct {
		name     string
		steps    string
		wantKind scenarios.ErrorKind
		wantMsg  string
		wantLog  string
	}{
		{"sends the browser's cookies", "- goto: ${u}/login\n- request: ${u}/api/items", "", "", "GET /api/items session=s-42 x= body="},
		{"method, headers, body and status", "- goto: ${u}/login\n- extract: {var: id, selector: h1}\n- request: {method: POST, url: '${u}/api/created', headers: {X-Token: 't-${id}'}, body: '{\"name\":\"${id}\"}', status: 201}", "", "", `POST /api/created session=s-42 x=t-Hello body={"name":"Hello"}`},
		{"a status other than 2xx fails", "- request: {method: DELETE, url: '${u}/api/missing'}", scenarios.KindAssertion, "DELETE " + "${u}/api/missing returned HTTP 404, expected a 2xx status", "DELETE /api/missing session= x= body="},
		{"the expected status", "- request: {url: '${u}/api/missing', status: 404}", "", "", "GET /api/missing session= x= body="},
		{"a wrong expected status", "- request: {url: '${u}/api/items', status: 204}", scenarios.KindAssertion, "returned HTTP 200, expected 204", "GET /api/items session= x= body="},
		// A cleanup that accepts "already gone" lists the statuses it takes.
		{"one of the expected statuses", "- request: {method: DELETE, url: '${u}/api/missing', status: [204, 404]}", "", "", "DELETE /api/missing session= x= body="},
		{"none of the expected statuses", "- request: {url: '${u}/api/missing', status: [200, 201]}", scenarios.KindAssertion, "returned HTTP 404, expected 200 or 201", "GET /api/missing session= x= body="},
		{"no answer", "- request: http://" + refused + "/api", scenarios.KindNavigation, "GET http://" + refused + "/api failed: ", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api := newAPIServer(t, false)
			res := runSteps(t, api.URL, "", tc.steps)
			checkOutcome(t, res, tc.wantKind, strings.ReplaceAll(tc.wantMsg, "${u}", api.URL))
			if got := api.callLog(); got != tc.wantLog {
				t.Errorf("API calls:\n%s\nwant:\n%s", got, tc.wantLog)
			}
		})
	}
}

// TestSelfSignedTLS runs its cases in order, not in parallel: the last one
// checks that a run's ignore_https_errors ends with the run.
func TestSelfSignedTLS(t *testing.T) {
	t.Parallel()
	api := newAPIServer(t, true)
	tests := []struct {
		name     string
		keys     string
		steps    string
		wantKind scenarios.ErrorKind
		wantMsg  string
	}{
		{"refused without ignore_https_errors", "", "- goto: ${u}/login", scenarios.KindNavigation, "ERR_CERT_AUTHORITY_INVALID"},
		{"request refused too", "", "- request: ${u}/api/x", scenarios.KindNavigation, "certificate"},
		{"accepted with ignore_https_errors", "ignore_https_errors: true\n", "- goto: ${u}/login\n- assert_title: Logged in\n- request: ${u}/api/x", "", ""},
		// In order: one flow's setting must not leak into the next run.
		{"refused again for the next flow", "", "- goto: ${u}/login", scenarios.KindNavigation, "ERR_CERT_AUTHORITY_INVALID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runSteps(t, api.URL, tc.keys, tc.steps)
			checkOutcome(t, res, tc.wantKind, tc.wantMsg)
		})
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "ada" || p != "s3cr3t-pw" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>Private</title><h1>Welcome ada</h1><img src="/logo.png">`)
	}))
	t.Cleanup(srv.Close)
	creds := "http_credentials: {username: ada, password: s3cr3t-pw}\n"
	tests := []struct {
		name     string
		keys     string
		steps    string
		wantKind scenarios.ErrorKind
		wantMsg  string
	}{
		{"401 without credentials", "", "- goto: ${u}/", scenarios.KindNavigation, "returned HTTP 401"},
		{"credentials answer the challenge", creds, "- goto: ${u}/\n- assert_text: {selector: h1, equals: Welcome ada}\n- request: ${u}/api", "", ""},
		{"the password is masked", creds, "- goto: ${u}/\n- assert_text: {selector: h1, equals: 's3cr3t-pw'}\n  timeout: 300ms", scenarios.KindAssertion, `expected it to equals "***"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runSteps(t, srv.URL, tc.keys, tc.steps)
			checkOutcome(t, res, tc.wantKind, tc.wantMsg)
			if s := fmt.Sprintf("%+v %+v %+v", *res, res.Steps, res.Pages); strings.Contains(s, "s3cr3t-pw") {
				t.Errorf("the password leaks into the result: %s", s)
			}
		})
	}
}

// headerServer records, per path, the flow header, the cookie and the
// basic auth a request brought; /redirect sends the client on to the URL
// in its "to" parameter.
type headerServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]string
}

func newHeaderServer(t *testing.T) *headerServer {
	t.Helper()
	h := &headerServer{seen: map[string]string{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "s-42", Path: "/"})
			fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><title>In</title>`)
			return
		case "/private":
			if u, p, ok := r.BasicAuth(); !ok || u != "ada" || p != "pw-secret" {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, "who are you", http.StatusUnauthorized)
				return
			}
			fallthrough
		case "/redirect":
			http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
			return
		}
		c, _ := r.Cookie("session")
		session := ""
		if c != nil {
			session = c.Value
		}
		h.mu.Lock()
		h.seen[r.URL.Path] = fmt.Sprintf("x=%s session=%s auth=%s", r.Header.Get("X-Token"), session, r.Header.Get("Authorization"))
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *headerServer) got(path string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen[path]
}

// TestRequestHeadersOnlyToOwnOrigins: a request step sends the flow's
// headers only to the flow's own origins (its goto URLs and
// headers_origins), and a redirect to another origin is followed without
// them, nor the credentials of the first origin; two servers on 127.0.0.1
// are two origins by their ports. Cookies go where the browser would send
// them, and a browser's cookies do not tell ports apart.
func TestRequestHeadersOnlyToOwnOrigins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		extraKeys string // with ${other}
		wantOther string
	}{
		{"another origin gets nothing", "", "x= session=s-42 auth="},
		{"headers_origins adds an origin", "headers_origins: ['${other}']\n", "x=tok-123 session=s-42 auth="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			own, other := newHeaderServer(t), newHeaderServer(t)
			keys := strings.ReplaceAll(tc.extraKeys, "${other}", other.URL)
			flow := "name: h\nheaders: {X-Token: tok-123}\nhttp_credentials: {username: ada, password: pw-secret}\n" + keys + "steps:\n" +
				"  - goto: " + own.URL + "/login\n" +
				"  - request: " + own.URL + "/own\n" +
				"  - request: " + other.URL + "/direct\n" +
				"  - request: " + own.URL + "/redirect?to=" + other.URL + "/redirected\n" +
				"  - request: " + own.URL + "/redirect?to=" + own.URL + "/back\n" +
				"  - request: " + own.URL + "/private?to=" + other.URL + "/after-auth\n"
			res := (&Runner{Browser: testBrowser}).Run(context.Background(), mustFlow(t, flow), desktop(t))
			if !res.Success {
				t.Fatalf("run failed: %+v", res.Error)
			}
			if got, want := own.got("/own"), "x=tok-123 session=s-42 auth="; got != want {
				t.Errorf("own origin: %s, want %s", got, want)
			}
			if got, want := own.got("/back"), "x=tok-123 session=s-42 auth="; got != want {
				t.Errorf("a redirect within the origin: %s, want %s", got, want)
			}
			for _, p := range []string{"/direct", "/redirected", "/after-auth"} {
				if got := other.got(p); got != tc.wantOther {
					t.Errorf("other origin %s: %s, want %s", p, got, tc.wantOther)
				}
			}
		})
	}
}
