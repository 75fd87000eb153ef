package runner

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/uxprobe/uxprobe/scenarios"
)

func TestSmoke(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Write([]byte(`<!doctype html><title>Home</title><h1>Shop</h1><form action="/s"><input id=q name=q><button>Go</button></form><a href="/help" id=help>Help</a>`))
		case "/s":
			w.Write([]byte(`<!doctype html><title>Results</title><h1>Results for ` + r.URL.Query().Get("q") + `</h1><ul id=r></ul><script>setTimeout(()=>{document.getElementById('r').innerHTML='<li><a class=result href="/p">Lamp</a></li>'},100)</script>`))
		case "/p":
			w.Write([]byte(`<!doctype html><title>Lamp</title><h1>Brass Lamp</h1>`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	flows, err := scenarios.Parse("t.yaml", []byte(`
name: smoke
devices: [desktop, mobile]
steps:
  - goto: `+srv.URL+`/
  - fill: {selector: "#q", value: lamp}
  - press: Enter
  - wait_for: a.result
  - assert_text: {selector: h1, contains: lamp}
  - click: text=Lamp
  - assert_title: Lamp
`), scenarios.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Browser: testBrowser}
	for _, d := range flows[0].Devices {
		res := r.Run(context.Background(), flows[0], d)
		b, _ := json.MarshalIndent(res, "", "  ")
		t.Logf("%s", b)
	}
}
