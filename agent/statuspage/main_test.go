package statuspage

import (
	"testing"

	"github.com/uxprobe/uxprobe/agent/pgtest"
)

// TestMain stops the package's PostgreSQL server, which the tests that run
// on both of the history's databases start on first use.
func TestMain(m *testing.M) { pgtest.Main(m) }
