package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Timing of the fleet's bookkeeping.
const (
	// HeartbeatEvery is how often an agent says it is alive; AliveWithin
	// is how recent a heartbeat must be for its location to take requests.
	HeartbeatEvery = 5 * time.Second
	AliveWithin    = 30 * time.Second
	// RequestTTL is how long a run-now request waits for an agent of its
	// location; a request older than that is dropped, not run late.
	RequestTTL = 10 * time.Minute
	// KeepClaims is how long a claim is kept after its slot ended: long
	// enough for the agents' next tick to see it, short enough to keep the
	// table small (an hour of 10,000 flows every minute on two devices is
	// 1.2 million rows; see Prune). A slot of a daily flow is kept for its
	// day and this long after.
	KeepClaims = time.Hour
)

// queryTimeout bounds each statement, so that a database that stopped
// answering (a partition rather than a refused connection) delays a run by
// at most this long before the run goes ahead without its claim.
const queryTimeout = 2 * time.Second

// schemaLock is the key of the advisory lock that serializes the creation
// of the tables: CREATE TABLE IF NOT EXISTS is not safe against itself when
// several agents start at once.
const schemaLock = 0x75787072_6f6265 // "uxprobe"

const schema = `
CREATE TABLE IF NOT EXISTS uxprobe_fleet_claims (
	location   text        NOT NULL,
	flow       text        NOT NULL,
	device     text        NOT NULL,
	slot       timestamptz NOT NULL,
	slot_end   timestamptz NOT NULL,
	agent      text        NOT NULL,
	missed     boolean     NOT NULL DEFAULT false,
	claimed_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (location, flow, device, slot)
);
CREATE INDEX IF NOT EXISTS uxprobe_fleet_claims_end ON uxprobe_fleet_claims (slot_end);
CREATE TABLE IF NOT EXISTS uxprobe_fleet_requests (
	id           bigserial   PRIMARY KEY,
	location     text        NOT NULL,
	flow         text        NOT NULL,
	device       text        NOT NULL,
	ids          text[]      NOT NULL,
	requested_by text        NOT NULL,
	requested_at timestamptz NOT NULL DEFAULT now(),
	taken_by     text,
	taken_at     timestamptz
);
CREATE INDEX IF NOT EXISTS uxprobe_fleet_requests_open ON uxprobe_fleet_requests (location, id) WHERE taken_at IS NULL;
CREATE TABLE IF NOT EXISTS uxprobe_fleet_agents (
	location text        NOT NULL,
	name     text        NOT NULL,
	seen_at  timestamptz NOT NULL,
	PRIMARY KEY (location, name)
);`

// Postgres is the fleet's shared state in a PostgreSQL database: claims of
// slots, run-now requests and heartbeats, in tables of its own that it
// creates when first reachable. It is safe for concurrent use.
//
// Every method fails fast when the database is unreachable; the agent then
// fails open (runs the slot itself). The first failure of an outage is
// logged as a warning and the recovery as information, never each failed
// statement.
type Postgres struct {
	pool  *pgxpool.Pool
	agent string
	log   *slog.Logger

	schemaMu sync.Mutex
	schemaOK atomic.Bool

	down    atomic.Bool
	queries atomic.Int64
}

// Options configure Open.
type Options struct {
	// Agent names this agent in its claims and heartbeats.
	Agent string
	// Logger receives the outage notices; nil discards them.
	Logger *slog.Logger
	// MaxConns bounds the connections of the pool; 0 means pgxpool's
	// default (the larger of 4 and the number of CPUs).
	MaxConns int32
}

// Open returns the fleet state at url. It does not need the database to be
// up: the pool connects on first use, and the tables are created by the
// first statement that reaches the database.
func Open(url string, opts Options) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors do not repeat the password, but say no more
		// than needed anyway.
		return nil, errors.New("fleet: the storage URL does not parse as a PostgreSQL URL")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	// A connection attempt to a database that is gone must not hold a
	// run for long: the run goes ahead unclaimed.
	cfg.ConnConfig.ConnectTimeout = queryTimeout
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Postgres{pool: pool, agent: opts.Agent, log: log}, nil
}

// Close closes the pool.
func (p *Postgres) Close() { p.pool.Close() }

// Agent is the name this agent claims under.
func (p *Postgres) Agent() string { return p.agent }

// Queries is the number of statements sent so far, for benchmarks.
func (p *Postgres) Queries() int64 { return p.queries.Load() }

// Down reports whether the last statement failed to reach the database.
func (p *Postgres) Down() bool { return p.down.Load() }

// Claim takes the slot for this agent: true if no agent had it, false if
// another agent (or a missed marker) has it. An error means the database
// could not say; the caller runs the slot anyway.
func (p *Postgres) Claim(ctx context.Context, s Slot) (bool, error) {
	var won bool
	err := p.do(ctx, func(ctx context.Context) error {
		tag, err := p.pool.Exec(ctx, `INSERT INTO uxprobe_fleet_claims (location, flow, device, slot, slot_end, agent)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, s.Location, s.Flow, s.Device, s.At, s.end(), p.agent)
		won = tag.RowsAffected() == 1
		return err
	})
	return won, err
}

// MarkMissed puts a missed marker on each of the slots that no agent has
// claimed, under the same unique constraint as claims, so that a late
// claim loses to it and each missed slot is counted once over the fleet. It
// returns the slots it marked: this agent counts them.
func (p *Postgres) MarkMissed(ctx context.Context, slots []Slot) ([]Slot, error) {
	if len(slots) == 0 {
		return nil, nil
	}
	locs, flows, devs := make([]string, len(slots)), make([]string, len(slots)), make([]string, len(slots))
	ats, ends := make([]time.Time, len(slots)), make([]time.Time, len(slots))
	for i, s := range slots {
		locs[i], flows[i], devs[i], ats[i], ends[i] = s.Location, s.Flow, s.Device, s.At, s.end()
	}
	var marked []Slot
	err := p.do(ctx, func(ctx context.Context) error {
		marked = marked[:0]
		rows, err := p.pool.Query(ctx, `INSERT INTO uxprobe_fleet_claims (location, flow, device, slot, slot_end, agent, missed)
SELECT u.l, u.f, u.d, u.t, u.e, $6, true FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) AS u(l, f, d, t, e)
ON CONFLICT DO NOTHING RETURNING location, flow, device, slot, slot_end`, locs, flows, devs, ats, ends, p.agent)
		if err != nil {
			return err
		}
		for rows.Next() {
			var s Slot
			if err := rows.Scan(&s.Location, &s.Flow, &s.Device, &s.At, &s.End); err != nil {
				rows.Close()
				return err
			}
			marked = append(marked, s)
		}
		return rows.Err()
	})
	return marked, err
}

// Holder returns the agent that holds the slot, and whether the slot holds
// a missed marker; "" when nobody does.
func (p *Postgres) Holder(ctx context.Context, s Slot) (agent string, missed bool, err error) {
	err = p.do(ctx, func(ctx context.Context) error {
		err := p.pool.QueryRow(ctx, `SELECT agent, missed FROM uxprobe_fleet_claims
WHERE location = $1 AND flow = $2 AND device = $3 AND slot = $4`, s.Location, s.Flow, s.Device, s.At).Scan(&agent, &missed)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	return agent, missed, err
}

// Heartbeat says that this agent of location is alive, and so that its
// location takes run-now requests.
func (p *Postgres) Heartbeat(ctx context.Context, location string) error {
	return p.do(ctx, func(ctx context.Context) error {
		_, err := p.pool.Exec(ctx, `INSERT INTO uxprobe_fleet_agents (location, name, seen_at) VALUES ($1, $2, now())
ON CONFLICT (location, name) DO UPDATE SET seen_at = excluded.seen_at`, location, p.agent)
		return err
	})
}

// Enqueue stores a run-now request for an agent of r.Location. It fails
// with ErrNoAgent when no agent of that location sent a heartbeat lately.
func (p *Postgres) Enqueue(ctx context.Context, r Request) (int64, error) {
	var id int64
	err := p.do(ctx, func(ctx context.Context) error {
		err := p.pool.QueryRow(ctx, `INSERT INTO uxprobe_fleet_requests (location, flow, device, ids, requested_by)
SELECT $1, $2, $3, $4, $5
WHERE EXISTS (SELECT 1 FROM uxprobe_fleet_agents WHERE location = $1 AND seen_at > now() - make_interval(secs => $6))
RETURNING id`, r.Location, r.Flow, r.Device, r.IDs, p.agent, AliveWithin.Seconds()).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %q", ErrNoAgent, r.Location)
		}
		return err
	})
	return id, err
}

// Take takes the oldest open request of location for this agent; nil when
// there is none. Requests older than RequestTTL are left to Prune.
func (p *Postgres) Take(ctx context.Context, location string) (*Request, error) {
	var r *Request
	err := p.do(ctx, func(ctx context.Context) error {
		var q Request
		err := p.pool.QueryRow(ctx, `UPDATE uxprobe_fleet_requests SET taken_by = $2, taken_at = now()
WHERE id = (SELECT id FROM uxprobe_fleet_requests
	WHERE location = $1 AND taken_at IS NULL AND requested_at > now() - make_interval(secs => $3)
	ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING id, location, flow, device, ids, requested_by`, location, p.agent, RequestTTL.Seconds()).
			Scan(&q.ID, &q.Location, &q.Flow, &q.Device, &q.IDs, &q.By)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return nil
		case err != nil:
			return err
		}
		r = &q
		return nil
	})
	return r, err
}

// Release puts a taken request back, for another agent of its location or
// a later try (the flow was running here).
func (p *Postgres) Release(ctx context.Context, id int64) error {
	return p.do(ctx, func(ctx context.Context) error {
		_, err := p.pool.Exec(ctx, `UPDATE uxprobe_fleet_requests SET taken_by = NULL, taken_at = NULL WHERE id = $1`, id)
		return err
	})
}

// Prune deletes claims of slots that ended KeepClaims before now, requests
// past RequestTTL and heartbeats of agents gone for a day. Every agent
// calls it now and then; the deletes are idempotent.
func (p *Postgres) Prune(ctx context.Context, now time.Time) error {
	return p.do(ctx, func(ctx context.Context) error {
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM uxprobe_fleet_claims WHERE slot_end < $1`, now.Add(-KeepClaims))
		b.Queue(`DELETE FROM uxprobe_fleet_requests WHERE requested_at < $1`, now.Add(-RequestTTL))
		b.Queue(`DELETE FROM uxprobe_fleet_agents WHERE seen_at < $1`, now.Add(-24*time.Hour))
		return p.pool.SendBatch(ctx, b).Close()
	})
}

// do runs one statement under queryTimeout, creating the tables first if
// they were not yet, and keeps track of outages.
func (p *Postgres) do(ctx context.Context, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	err := p.ensureSchema(ctx)
	if err == nil {
		p.queries.Add(1)
		err = f(ctx)
	}
	p.observe(ctx, err)
	return err
}

func (p *Postgres) ensureSchema(ctx context.Context) error {
	if p.schemaOK.Load() {
		return nil
	}
	p.schemaMu.Lock()
	defer p.schemaMu.Unlock()
	if p.schemaOK.Load() {
		return nil
	}
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(schemaLock)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, schema)
		return err
	})
	if err != nil {
		return fmt.Errorf("fleet: creating the tables: %w", err)
	}
	p.schemaOK.Store(true)
	return nil
}

// observe logs the first failure of an outage and the recovery. A caller
// that gave up (its context ended: the agent is stopping) says nothing of
// the database.
func (p *Postgres) observe(ctx context.Context, err error) {
	if err == nil {
		if p.down.CompareAndSwap(true, false) {
			p.log.Info("the fleet database is reachable again; runs are claimed again")
		}
		return
	}
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return
	}
	if p.down.CompareAndSwap(false, true) {
		p.log.Warn("the fleet database is unreachable; running every slot of this location here until it is back (a slot may run on several agents meanwhile)", "err", err)
	}
}
