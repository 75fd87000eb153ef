package scenarios

import "sync"

// boundedCache keeps values made from keys until their costs add up to
// max; past it, a value is made on each use and not kept. The masker's
// caches are bounded so, not by count: a secret of 5,000 characters costs
// a thousand times what a password does, and a value that a run extracts
// (a session token, new each run) must not grow them without end.
type boundedCache[K comparable, V any] struct {
	mu   sync.Mutex
	m    map[K]V
	used int
	max  int
}

// get returns the value of k, made by build (which also says its cost) if
// it is not kept.
func (c *boundedCache[K, V]) get(k K, build func() (V, int)) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.m[k]; ok {
		return v
	}
	v, cost := build()
	if c.used+cost <= c.max {
		if c.m == nil {
			c.m = map[K]V{}
		}
		c.m[k] = v
		c.used += cost
	}
	return v
}
