package scenarios

import "testing"

// TestBoundedCache: values are kept until their costs reach the bound;
// past it they are made on each use, and the cache does not grow.
func TestBoundedCache(t *testing.T) {
	c := boundedCache[string, int]{max: 10}
	made := 0
	get := func(k string, cost int) int {
		return c.get(k, func() (int, int) { made++; return len(k), cost })
	}
	get("a", 4)
	get("b", 6) // 10: at the bound, kept
	get("c", 1) // past it: made, not kept
	get("a", 4)
	get("b", 6)
	get("c", 1)
	if made != 4 {
		t.Errorf("made %d values, want 4 (a, b once each, c twice)", made)
	}
	if len(c.m) != 2 || c.used != 10 {
		t.Errorf("kept %d values of cost %d, want 2 of 10", len(c.m), c.used)
	}
	if v := get("c", 1); v != 1 {
		t.Errorf("value of an unkept key = %d, want 1", v)
	}
}
