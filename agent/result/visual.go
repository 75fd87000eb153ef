package result

// Visual is what an assert_screenshot step found against its baseline.
type Visual struct {
	// DiffRatio is the share of the picture's pixels that changed; 0 when
	// the picture became the baseline.
	DiffRatio float64 `json:"diff_ratio"`
	// ChangedPixels is how many changed (pixelmatch's count: more than
	// its colour threshold, not anti-aliasing).
	ChangedPixels int `json:"changed_pixels"`
	// Baseline is the picture compared with: the baseline's file, or on a
	// failed step its copy among the run's artifacts, as the baseline was
	// then.
	Baseline string `json:"baseline,omitempty"`
	// Actual and Diff are the run's picture and the diff with the changed
	// pixels in red, among the run's artifacts; only on a failed step.
	Actual string `json:"actual,omitempty"`
	Diff   string `json:"diff,omitempty"`
	// Recorded says the picture became the baseline: there was none, or
	// uxprobe check --update-baselines asked for it.
	Recorded bool `json:"recorded,omitempty"`
}
