package scenarios

import "testing"

// TestPastCentre: a drag comes to rest halfway between the target's point
// and its box's edge along the way it came, and stays at the point when
// there is no way or no box.
func TestPastCentre(t *testing.T) {
	item := Target{Point: Point{X: 100, Y: 100}, Width: 200, Height: 40}
	tests := []struct {
		name string
		from Point
		to   Target
		want Point
	}{
		{"down a list", Point{X: 100, Y: 20}, item, Point{X: 100, Y: 110}},
		{"up a list", Point{X: 100, Y: 300}, item, Point{X: 100, Y: 90}},
		{"right along a row", Point{X: 0, Y: 100}, item, Point{X: 150, Y: 100}},
		// Along the diagonal the box's top is nearer than its side.
		{"diagonally, bounded by the nearer side", Point{X: 0, Y: 0}, item, Point{X: 110, Y: 110}},
		{"from the target itself", Point{X: 100, Y: 100}, item, Point{X: 100, Y: 100}},
		{"onto a box of no size", Point{X: 0, Y: 0}, Target{Point: Point{X: 50, Y: 50}}, Point{X: 50, Y: 50}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := pastCentre(tc.from, tc.to)
			if d := (got.X-tc.want.X)*(got.X-tc.want.X) + (got.Y-tc.want.Y)*(got.Y-tc.want.Y); d > 1e-9 {
				t.Errorf("pastCentre(%v, %+v) = %v, want %v", tc.from, tc.to, got, tc.want)
			}
		})
	}
}
