package statuspage

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestAPIURLsCarryThePrefix serves the handler under a path, as the agent
// does with --web.external-url=https://host/probe: the URLs in the API's
// answers lead there.
func TestAPIURLsCarryThePrefix(t *testing.T) {
	h := New(Options{Store: newStore(t), Prefix: "/probe", Now: func() time.Time { return now },
		RunNow: func(string, string) ([]string, error) { return []string{"r-new"}, nil }})
	mux := http.NewServeMux()
	mux.Handle("/probe/", http.StripPrefix("/probe", h))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tt := range []struct {
		method, path string
		want         []string
	}{
		{"GET", "/probe/api/v1/runs/r-checkout-mobile-bad", []string{
			`"url": "/probe/api/v1/runs/r-checkout-mobile-bad/artifacts/failure-place_order.png"`,
			`"har_url": "/probe/api/v1/runs/r-checkout-mobile-bad/har"`}},
		{"GET", "/probe/api/v1/flows", []string{`"url": "/probe/api/v1/runs/r-checkout-mobile-bad/artifacts/failure-place_order.png"`}},
		{"POST", "/probe/api/v1/flows/checkout/run", []string{`"/probe/api/v1/runs/r-new"`}},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b strings.Builder
			if _, err := io.Copy(&b, resp.Body); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("answer lacks %s:\n%.800s", w, b.String())
				}
			}
			if strings.Contains(b.String(), `"/api/v1`) {
				t.Errorf("answer has a URL without the prefix:\n%.800s", b.String())
			}
		})
	}
}
