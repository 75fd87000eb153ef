package main

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// externalURLUsage is --web.external-url's help, as Prometheus words it.
const externalURLUsage = "the URL people and alerts reach this agent at, such as behind a reverse proxy (https://uxprobe.example.com/probe); links in alerts are built from it (uxprobe_agent_info{external_url}), and a path in it is the prefix every endpoint is served under (/probe/metrics, /probe/-/ready, the status page at /probe/); empty: http://HOST:PORT of --web.listen-address, HOST the machine's name when it listens on every interface"

// parseExternalURL checks --web.external-url and returns it without a
// trailing slash, and its path: the prefix to serve under ("" for none).
// Empty is valid: the URL comes from the listener (defaultExternalURL).
func parseExternalURL(s string) (string, string, error) {
	if s == "" {
		return "", "", nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", "", fmt.Errorf("want an absolute http:// or https:// URL such as https://uxprobe.example.com/probe")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("want no user, query or fragment: a base URL such as https://uxprobe.example.com/probe")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), u.Path, nil
}

// defaultExternalURL is the agent's URL as Prometheus derives its own:
// http, the host it listens on, or the machine's name when it listens on
// every interface (so that a link in an alert leads to this machine, not
// to the reader's localhost), and the port.
func defaultExternalURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// underPrefix serves h under prefix (a path without a trailing slash): a
// request for prefix+"/x" reaches h as "/x". The prefix alone and the
// root redirect to prefix+"/", as Prometheus does; anything else is 404.
func underPrefix(prefix string, h http.Handler) http.Handler {
	if prefix == "" {
		return h
	}
	strip := http.StripPrefix(prefix, h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case strings.HasPrefix(p, prefix+"/"):
			strip.ServeHTTP(w, r)
		case (p == prefix || p == "/") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			http.Redirect(w, r, prefix+"/", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	})
}
