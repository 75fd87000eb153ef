// Package historytest gives tests outside agent/ (cmd/uxprobe) the real
// PostgreSQL of agent/internal/pgtest, which Go's internal rule keeps to
// agent/: a database for a --storage.url, and the server to pause.
package historytest

import (
	"testing"

	"github.com/uxprobe/uxprobe/agent/internal/pgtest"
)

// Main runs a package's tests and stops its PostgreSQL after them; call it
// from TestMain.
func Main(m *testing.M) { pgtest.Main(m) }

// URL is a new, empty database on the package's server (see pgtest.URL).
func URL(t testing.TB) string { return pgtest.URL(t) }

// Shared is the package's server, to Pause and Resume.
func Shared(t testing.TB) *pgtest.Server { return pgtest.Shared(t) }
