// Package promtest starts real Prometheus components for tests, as users
// run them: what matters is that they accept what uxprobe sends.
package promtest

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// StartPushgateway runs Debian's prometheus-pushgateway on a free local
// port until the test ends, and returns its URL. A missing binary fails the
// test with the command that installs it: skipping would hide the gap.
func StartPushgateway(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus-pushgateway")
	if err != nil {
		t.Fatal("prometheus-pushgateway not found: install it with `apt-get install -y prometheus-pushgateway` (`make test` installs it)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // a small race with other listeners, acceptable in tests
	cmd := exec.Command(bin, "--web.listen-address="+addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	url := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pushgateway on %s not ready within 10s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// StartPrometheus runs Debian's prometheus on a free local port, with its
// remote write receiver on (--web.enable-remote-write-receiver) and its
// storage in a temporary directory, until the test ends, and returns its
// URL. It scrapes nothing: what it holds came by remote write.
func StartPrometheus(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus not found: install it with `apt-get install -y prometheus` (`make test` installs it)")
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(config, []byte("global:\n  evaluation_interval: 1m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--config.file="+config, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--web.enable-remote-write-receiver", "--log.level=warn")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	url := "http://" + addr
	waitReady(t, url+"/-/ready", "prometheus", func() string { return out.String() })
	return url
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close() // a small race with other listeners, acceptable in tests
	return l.Addr().String()
}

func waitReady(t testing.TB, url, what string, log func() string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready at %s within 20s: %v\n%s", what, url, err, log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
