// Package promtest starts real Prometheus components for tests, as users
// run them: what matters is that they accept what uxprobe sends.
package promtest

import (
	"net"
	"net/http"
	"os/exec"
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
