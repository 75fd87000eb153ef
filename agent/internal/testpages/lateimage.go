// Package testpages holds pages that tests of more than one package serve
// to real Chrome.
package testpages

import (
	"net/http"
	"time"
)

// LateImage serves at / a page that adds an image after its load, which it
// answers at /late.svg only after late: a run's task (a goto, which ends at
// the load) is over long before its final read, which waits for the
// image. A request's query is the caller's, to tell runs apart.
func LateImage(late time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`<!doctype html><title>late</title><h1>A late image</h1><button id="b">b</button>
<script>addEventListener('load', () => setTimeout(() => {
  const img = new Image(); img.width = 300; img.height = 200; img.src = '/late.svg'; document.body.append(img);
}, 0));</script>`))
	})
	mux.HandleFunc("/late.svg", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(late):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "image/svg+xml")
		_, _ = w.Write([]byte(`<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200"><rect width="300" height="200" fill="#8ac"/></svg>`))
	})
	return mux
}
