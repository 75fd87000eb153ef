package redact_test

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/uxprobe/uxprobe/agent/redact"
)

// TestFile: a text file is kept with its secrets masked, in every form
// Mask knows; a file that is not text is kept as it is without a secret,
// and not at all with one.
func TestFile(t *testing.T) {
	f := secretFlow(t, testSecret)
	b64 := base64.StdEncoding.EncodeToString([]byte(testSecret))
	tests := []struct {
		name       string
		data       string
		want       string
		masked, ok bool
	}{
		{"text without a secret", "a,b\n1,2\n", "a,b\n1,2\n", false, true},
		{"text with a secret", "user,token\nada," + testSecret + "\n", "user,token\nada,***\n", true, true},
		{"text with a secret in base64", `{"t":"` + b64 + `"}`, `{"t":"***A=="}`, true, true}, // the last character also holds padding bits
		{"bytes without a secret", "\x00\x01PK\x03\x04", "\x00\x01PK\x03\x04", false, true},
		{"bytes with a secret", "\x00\x01PK" + testSecret + "\x00", "", false, false},
		{"bytes that are no UTF-8, with a secret", "\xff\xfe" + testSecret, "", false, false},
		{"empty", "", "", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, masked, ok := redact.File([]byte(tc.data), f)
			if !bytes.Equal(got, []byte(tc.want)) || masked != tc.masked || ok != tc.ok {
				t.Errorf("File(%q) = %q, %v, %v; want %q, %v, %v", tc.data, got, masked, ok, tc.want, tc.masked, tc.ok)
			}
		})
	}
	if got, masked, ok := redact.File([]byte(testSecret), nil); string(got) != testSecret || masked || !ok {
		t.Errorf("with no flow: %q, %v, %v; want the file as it is", got, masked, ok)
	}
}
