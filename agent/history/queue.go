package history

import (
	"context"
	"sync"
	"time"
)

// queue holds the runs that the store did not take, oldest first, within
// max runs and maxBytes of artifacts. It is safe for concurrent use.
type queue struct {
	mu       sync.Mutex
	rows     []*row
	bytes    int64
	max      int
	maxBytes int64
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.rows)
}

// push appends rw, dropping the oldest runs beyond max, and returns how
// many it dropped and whether rw lost its artifacts to maxBytes.
func (q *queue) push(rw *row) (dropped int, stripped bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if b := rw.blobBytes(); b > 0 && q.bytes+b > q.maxBytes {
		// The run itself is what matters: keep it without its files.
		rw.size -= b
		rw.arts, stripped = nil, true
	}
	q.rows = append(q.rows, rw)
	q.bytes += rw.blobBytes()
	for len(q.rows) > q.max {
		q.bytes -= q.rows[0].blobBytes()
		q.rows[0] = nil
		q.rows = q.rows[1:]
		dropped++
	}
	return dropped, stripped
}

func (q *queue) front() *row {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.rows) == 0 {
		return nil
	}
	return q.rows[0]
}

// pop removes rw if it is still the front (a push may have dropped it).
func (q *queue) pop(rw *row) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.rows) > 0 && q.rows[0] == rw {
		q.bytes -= rw.blobBytes()
		q.rows[0] = nil
		q.rows = q.rows[1:]
	}
}

// enqueue keeps a run the store did not take.
func (s *Store) enqueue(rw *row) {
	dropped, stripped := s.q.push(rw)
	if stripped {
		s.log.Warn("the run history's queue is full of artifacts; this run is kept without its files", "run", rw.id)
	}
	if dropped > 0 {
		s.log.Warn("the run history's queue is full; dropped its oldest runs", "dropped", dropped, "queue", s.opts.QueueLength)
		if s.opts.OnDrop != nil {
			for range dropped {
				s.opts.OnDrop()
			}
		}
	}
	s.queued()
}

func (s *Store) queued() {
	if s.opts.OnQueue != nil {
		s.opts.OnQueue(s.q.len())
	}
}

// flush writes queued runs, oldest first, until the queue is empty or the
// store fails again. It returns how many it wrote.
func (s *Store) flush(ctx context.Context) int {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	n := 0
	defer func() {
		if n > 0 {
			s.log.Info("wrote queued runs to the history", "runs", n, "waiting", s.q.len())
			s.queued()
		}
	}()
	for ctx.Err() == nil {
		rw := s.q.front()
		if rw == nil {
			return n
		}
		if err := s.write(ctx, rw); err != nil {
			s.log.Debug("the history still does not take queued runs", "waiting", s.q.len(), "err", err)
			return n
		}
		s.q.pop(rw)
		s.wrote()
		n++
	}
	return n
}

// retryLoop writes queued runs every RetryInterval, and recovers a SQLite
// file that a query found damaged, until Close.
func (s *Store) retryLoop() {
	defer s.stopped.Done()
	t := time.NewTicker(s.opts.RetryInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if errp := s.damagedErr.Load(); errp != nil {
			s.recoverRuntime(*errp)
		}
		if s.q.len() == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		go func() {
			// Close must not wait a minute for a store that hangs.
			select {
			case <-s.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		s.flush(ctx)
		cancel()
	}
}
