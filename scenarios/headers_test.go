package scenarios

import (
	"slices"
	"testing"
)

func TestHeaderOrigins(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"the goto URLs' origins, once each", "steps:\n  - goto: https://Shop.Example.com/a?b=1\n  - goto: https://shop.example.com:443/c\n  - goto: http://127.0.0.1:8080/\n",
			[]string{"https://shop.example.com", "http://127.0.0.1:8080"}},
		{"widened", "headers_origins: [https://api.example.com, \"http://[::1]:9000/\"]\nsteps:\n  - goto: https://shop.example.com/\n",
			[]string{"https://shop.example.com", "https://api.example.com", "http://[::1]:9000"}},
		{"every origin", "headers_origins: \"*\"\nsteps:\n  - goto: https://shop.example.com/\n",
			[]string{"https://shop.example.com", AnyOrigin}},
		{"from a var", "vars: {api: https://api.example.com}\nheaders_origins: ${api}\nsteps:\n  - goto: https://shop.example.com/\n",
			[]string{"https://shop.example.com", "https://api.example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			flows, err := Parse("t.yaml", []byte("name: t\nheaders: {X-T: \"1\"}\n"+tc.yaml), LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
			if err != nil {
				t.Fatal(err)
			}
			if got := flows[0].HeaderOrigins(); !slices.Equal(got, tc.want) {
				t.Errorf("HeaderOrigins = %q, want %q", got, tc.want)
			}
		})
	}
}
