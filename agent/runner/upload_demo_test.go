package runner

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/uxprobe/uxprobe/agent/demoshop"
	"github.com/uxprobe/uxprobe/scenarios"
)

// TestUploadDemoAvatar signs in to the demo shop with a one-time code and
// uploads an avatar, a real PNG beside the flow file, through the account
// page's form: the shop shows the file's name and size. The shop loads
// nothing from another origin, so block: third-party blocks nothing.
func TestUploadDemoAvatar(t *testing.T) {
	t.Parallel()
	shop := httptest.NewServer(demoshop.New())
	t.Cleanup(shop.Close)
	dir := t.TempDir()
	img := image.NewNRGBA(image.Rect(0, 0, 48, 48))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 31)
	}
	img.Set(0, 0, color.NRGBA{R: 255, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "avatar.png"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	flow := `name: avatar
timeout: 30s
block: third-party
vars: {password: "` + demoshop.DemoPassword + `", seed: "` + demoshop.DemoTOTPSeed + `"}
secrets: [password, seed]
steps:
  - goto: ${u}/account
  - fill: {selector: "#email", value: "` + demoshop.DemoEmail + `"}
  - fill: {selector: "#password", value: "${password}"}
  - click: "#sign-in"
  - fill: {selector: "#code", value: "${totp:seed}"}
  - click: "#verify"
  - upload: {selector: "#avatar", files: avatar.png}
  - click: "#upload"
  - assert_text: {selector: "#avatar-name", equals: avatar.png}
  - assert_text: {selector: "#avatar-size", equals: "` + strconv.Itoa(buf.Len()) + `"}
`
	path := filepath.Join(dir, "avatar.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(flow, "${u}", shop.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := scenarios.Load([]string{path}, scenarios.LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil || loaded[0].Err != nil {
		t.Fatalf("flow does not load: %v %v", err, loaded[0].Err)
	}
	res := (&Runner{Browser: testBrowser}).Run(context.Background(), loaded[0].Flows[0], desktop(t))
	checkOutcome(t, res, "", "")
	if want := "avatar.png (" + strconv.Itoa(buf.Len()) + " bytes)"; res.Steps[6].Value != want {
		t.Errorf("upload step value %q, want %q", res.Steps[6].Value, want)
	}
	if res.BlockedRequests != 0 || len(res.FailedRequests) != 0 {
		t.Errorf("blocked %d, failed %+v: the shop has no third party", res.BlockedRequests, res.FailedRequests)
	}
}
