package scenarios

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestConditionsOn reads the user's conditions from flow and device keys
// and compares each device's effective conditions with a golden file: the
// device's value of a key wins, the others come from the flow.
func TestConditionsOn(t *testing.T) {
	cases := []struct {
		name string
		yaml string
	}{
		{"flow-only", `
name: f
locale: de-DE
timezone: Europe/Berlin
geolocation: {latitude: 52.52, longitude: 13.405}
permissions: [notifications]
color_scheme: dark
reduced_motion: true
devices: [desktop, mobile]
steps: [{goto: "https://example.com"}]
`},
		{"device-wins", `
name: f
locale: de-DE
timezone: Europe/Berlin
color_scheme: dark
permissions: [camera, microphone]
devices:
  - desktop
  - {name: mobile, locale: fr-FR, color_scheme: light, permissions: [], reduced_motion: false}
  - {name: kiosk, width: 800, height: 600, timezone: America/New_York, geolocation: {latitude: -33.86, longitude: 151.2, accuracy: 50}}
steps: [{goto: "https://example.com"}]
`},
		{"preset-by-devtools-name", `
name: f
devices: [{name: "iPhone 12 Pro", locale: en-gb, timezone: UTC}]
steps: [{goto: "https://example.com"}]
`},
		{"env-values", `
name: f
vars: {lang: "pt-BR"}
locale: ${lang}
timezone: ${env:TZ_UNDER_TEST}
steps: [{goto: "https://example.com"}]
`},
		{"none", `
name: f
steps: [{goto: "https://example.com"}]
`},
	}
	env := fakeEnv(map[string]string{"TZ_UNDER_TEST": "Asia/Tokyo"})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			flows, err := Parse("c.yaml", []byte(tc.yaml), LoadOptions{LookupEnv: env})
			if err != nil {
				t.Fatal(err)
			}
			type effective struct {
				Device  string
				Class   DeviceClass
				Width   int64
				Conds   Conditions
				Granted []string
			}
			var got []effective
			for _, d := range flows[0].Devices {
				c := flows[0].ConditionsOn(d)
				got = append(got, effective{d.Name, d.Class, d.Width, c, c.Granted()})
			}
			b, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "conditions", tc.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./scenarios -run TestConditionsOn -update)", err)
			}
			if string(want) != string(b)+"\n" {
				t.Errorf("effective conditions differ from %s\n got:\n%s\nwant:\n%s", golden, b, want)
			}
		})
	}
}

// TestConditionsClone: a result's copy of the conditions shares nothing
// with the flow, so that masking the result never rewrites the flow.
func TestConditionsClone(t *testing.T) {
	yes := true
	c := Conditions{Permissions: []string{"camera"}, Geolocation: &Geolocation{Latitude: 1}, ReducedMotion: &yes}
	d := c.Clone()
	d.Permissions[0], d.Geolocation.Latitude, *d.ReducedMotion = "***", 2, false
	if c.Permissions[0] != "camera" || c.Geolocation.Latitude != 1 || !*c.ReducedMotion {
		t.Errorf("changing the clone changed the original: %+v", c)
	}
}
