// Package examples holds the flows that ship with uxprobe. They run against
// the demo shop (agent/demoshop), so `uxprobe demo` works out of the box, and
// they show new users the flow format on a site they can open themselves.
package examples

import "embed"

// FS holds the example flow files, embedded so that the binary can run and
// print them without a checkout of the repository, and the picture that
// account-avatar uploads beside them (an upload's path is relative to its
// flow file).
//
//go:embed *.yaml avatar.png
var FS embed.FS
