// Package version holds the build's version, stamped by the linker:
//
//	go build -ldflags "-X github.com/uxprobe/uxprobe/cmd/uxprobe/version.Version=v1.2.3 \
//	  -X github.com/uxprobe/uxprobe/cmd/uxprobe/version.Revision=abc123"
package version

import (
	"runtime"
	"runtime/debug"
)

// Version is the release version; "dev" for builds that were not stamped.
var Version = "dev"

// Revision is the source revision the binary was built from.
var Revision = ""

// GoVersion is the Go toolchain that built the binary.
var GoVersion = runtime.Version()

func init() {
	// A plain `go build` in a checkout records the VCS revision itself; use it
	// when the linker did not stamp one, so uxprobe_build_info is never blank.
	if Revision != "" {
		return
	}
	Revision = "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				Revision = s.Value
			}
		}
	}
}

// String is the one-line form `uxprobe version` prints.
func String() string {
	return "uxprobe " + Version + " (revision " + Revision + ", " + GoVersion + ")"
}
