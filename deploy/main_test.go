package deploy_test

import (
	"testing"

	"github.com/uxprobe/uxprobe/agent/pgtest"
)

// TestMain stops the PostgreSQL that the end-to-end test's fleet shares,
// if one was started, after the package's tests.
func TestMain(m *testing.M) { pgtest.Main(m) }
