package scenarios

import (
	"strings"
	"testing"
)

// TestLoadErrorsMaskSecrets: a flow file with a mistake must not print the
// secrets it reads from the environment: `validate`, `check`, the agent's
// logs and the /-/reload answer all show these errors.
func TestLoadErrorsMaskSecrets(t *testing.T) {
	const secret = "EnvSecretValue-Qz81"
	env := func(name string) (string, bool) {
		switch name {
		case "TOKEN":
			return secret, true
		case "SHORT":
			return "ab", true
		}
		return "", false
	}
	tests := []struct{ name, yaml string }{
		{"declared secret in a selector", "name: t\nvars: {token: '${env:TOKEN}'}\nsecrets: [token]\nsteps:\n  - click: '${token}[[['\n"},
		{"env value used directly", "name: t\nsteps:\n  - click: '${env:TOKEN}[[['\n"},
		{"env value in a var not declared secret", "name: t\nvars: {v: 'x${env:TOKEN}'}\nsteps:\n  - click: '${v}[[['\n"},
		{"http_credentials password", "name: t\nvars: {p: '${env:TOKEN}'}\nhttp_credentials: {username: u, password: '${p}'}\nsteps:\n  - click: '${p}[[['\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.yaml), LoadOptions{LookupEnv: env})
			if err == nil {
				t.Fatal("the flow should be invalid")
			}
			msg := err.Error()
			if strings.Contains(msg, secret[:8]) || strings.Contains(msg, secret[8:]) {
				t.Errorf("the load error shows the secret: %s", msg)
			}
			if !strings.Contains(msg, Masked) {
				t.Errorf("the load error should show where the secret was: %s", msg)
			}
		})
	}
	// A value too short to be a secret stays, so that errors remain
	// readable (a port, a flag).
	_, err := Parse("t.yaml", []byte("name: t\nsteps:\n  - click: '${env:SHORT}[[['\n"), LoadOptions{LookupEnv: env})
	if err == nil || !strings.Contains(err.Error(), "ab[[[") {
		t.Errorf("a short environment value should stay: %v", err)
	}
}
