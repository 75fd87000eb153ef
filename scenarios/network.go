package scenarios

// NetworkProfile is a throttling profile with the figures Chrome DevTools uses
// for its presets, so a result here matches what a designer sees in DevTools.
type NetworkProfile struct {
	Name string
	// Latency is the added round-trip time in milliseconds.
	LatencyMillis float64
	// Throughputs in bytes per second.
	DownloadBytesPerSec float64
	UploadBytesPerSec   float64
}

// Throttled reports whether the profile changes anything.
func (p NetworkProfile) Throttled() bool { return p.Name != "" && p.Name != "none" }

// networkProfiles are DevTools' presets: Slow 3G is 400 ms x 5 latency and
// 500 kbit/s x 0.8; Fast 3G 150 ms x 3.75 and 1.6 Mbit/s x 0.9 down,
// 750 kbit/s x 0.9 up; Fast 4G 60 ms x 2.75 and 9 Mbit/s x 0.9 down,
// 1.5 Mbit/s x 0.9 up.
var networkProfiles = []NetworkProfile{
	{Name: "none"},
	{Name: "4g", LatencyMillis: 60 * 2.75, DownloadBytesPerSec: 9e6 / 8 * 0.9, UploadBytesPerSec: 1.5e6 / 8 * 0.9},
	{Name: "fast-3g", LatencyMillis: 150 * 3.75, DownloadBytesPerSec: 1.6e6 / 8 * 0.9, UploadBytesPerSec: 750e3 / 8 * 0.9},
	{Name: "slow-3g", LatencyMillis: 400 * 5, DownloadBytesPerSec: 500e3 / 8 * 0.8, UploadBytesPerSec: 500e3 / 8 * 0.8},
}

// NetworkProfiles lists the throttling profiles.
func NetworkProfiles() []NetworkProfile { return append([]NetworkProfile(nil), networkProfiles...) }

func networkNames() []string {
	n := make([]string, len(networkProfiles))
	for i, p := range networkProfiles {
		n[i] = p.Name
	}
	return n
}

func lookupNetwork(name string) (NetworkProfile, bool) {
	for _, p := range networkProfiles {
		if p.Name == name {
			return p, true
		}
	}
	return NetworkProfile{}, false
}
