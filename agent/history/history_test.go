package history

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/pgtest"
	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// storeKind makes a new, empty store of one of the two databases. Every
// test of the history runs on both (eachStore), so that a feature cannot
// exist for one and not the other.
type storeKind struct {
	name string
	// open makes a new store; reopen opens another Store on the same
	// database, as a second agent or a restart does.
	open func(t *testing.T, opts Options) *Store
}

var stores = []storeKind{
	{"sqlite", func(t *testing.T, opts Options) *Store { return open(t, t.TempDir(), opts) }},
	{"postgres", func(t *testing.T, opts Options) *Store { return openURL(t, pgtest.URL(t), opts) }},
}

func eachStore(t *testing.T, f func(t *testing.T, st storeKind)) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) { f(t, st) })
	}
}

// reopen opens another Store on s's database.
func reopen(t *testing.T, s *Store, opts Options) *Store {
	t.Helper()
	if s.Dialect() == "postgres" {
		return openURL(t, s.rawURL(t), opts)
	}
	return open(t, s.Dir(), opts)
}

// rawURL is the test's URL of the store (with no password: pgtest trusts).
func (s *Store) rawURL(t *testing.T) string {
	t.Helper()
	return s.where
}

func openURL(t *testing.T, url string, opts Options) *Store {
	t.Helper()
	s, err := OpenURL(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// run makes a result of the flow on the device at t0 plus minutes; kind
// "" succeeds.
func run(flow, device string, minutes int, kind scenarios.ErrorKind) *result.Result {
	r := &result.Result{
		Flow: flow, Device: device, DeviceClass: "desktop",
		StartedAt: t0.Add(time.Duration(minutes) * time.Minute), Success: kind == "", Attempts: 1,
		DurationSeconds: 1 + float64(minutes)/100,
		Steps:           []result.Step{{Name: "open", Action: "goto", DurationSeconds: 0.5, Success: kind == ""}},
		Pages:           []result.Page{}, ConsoleErrors: []string{}, FailedRequests: []result.FailedRequest{}, Screenshots: []string{},
	}
	if kind != "" {
		r.Error = &result.Error{Step: "open", Kind: kind, Message: "it broke"}
	}
	return r
}

func open(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func export(t *testing.T, s *Store, rs ...*result.Result) {
	t.Helper()
	for _, r := range rs {
		if err := s.Export(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
}

func ids(runs []Run) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.Result.Flow + "/" + r.Result.Device + "@" + r.Result.StartedAt.Format("15:04")
	}
	return out
}

func TestQueries(t *testing.T) { eachStore(t, testQueries) }

func testQueries(t *testing.T, st storeKind) {
	s := st.open(t, Options{})
	export(t, s,
		run("search", "desktop", 0, ""),
		run("search", "mobile", 1, scenarios.KindTimeout),
		run("checkout", "desktop", 2, scenarios.KindNavigation),
		run("search", "desktop", 3, scenarios.KindBrowser),
		run("checkout", "desktop", 4, ""),
	)
	ctx := context.Background()
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"all, newest first", Query{}, []string{"checkout/desktop@12:04", "search/desktop@12:03", "checkout/desktop@12:02", "search/mobile@12:01", "search/desktop@12:00"}},
		{"flow", Query{Flow: "search"}, []string{"search/desktop@12:03", "search/mobile@12:01", "search/desktop@12:00"}},
		{"flow and device", Query{Flow: "search", Device: "desktop"}, []string{"search/desktop@12:03", "search/desktop@12:00"}},
		{"outcome failure", Query{Outcome: result.OutcomeFailure}, []string{"checkout/desktop@12:02", "search/mobile@12:01"}},
		{"outcome error", Query{Outcome: result.OutcomeError}, []string{"search/desktop@12:03"}},
		{"since", Query{Since: t0.Add(3 * time.Minute)}, []string{"checkout/desktop@12:04", "search/desktop@12:03"}},
		{"limit and offset", Query{Limit: 2, Offset: 1}, []string{"search/desktop@12:03", "checkout/desktop@12:02"}},
		{"nothing", Query{Flow: "nope"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs, err := s.Runs(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(runs); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}

	// A run recorded late (uxprobe check after a slow CI job) with an
	// older start is not the latest.
	export(t, s, run("search", "mobile", -5, scenarios.KindTimeout))
	latest, err := s.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(latest), []string{"checkout/desktop@12:04", "search/desktop@12:03", "search/mobile@12:01"}; !slices.Equal(got, want) {
		t.Errorf("Latest: got %q, want %q", got, want)
	}
	good, err := s.LastOf(ctx, "search", "desktop", result.OutcomeSuccess)
	if err != nil || good.Result.StartedAt != t0 {
		t.Errorf("LastOf success: %v, %v", good.Result, err)
	}
	if _, err := s.LastOf(ctx, "search", "mobile", result.OutcomeSuccess); !errors.Is(err, ErrNotFound) {
		t.Errorf("LastOf of no run: err %v, want ErrNotFound", err)
	}
	one, err := s.Run(ctx, latest[0].ID)
	if err != nil || one.Result.Flow != "checkout" || one.Result.ID != latest[0].ID {
		t.Errorf("Run(%s) = %+v, %v", latest[0].ID, one.Result, err)
	}
	if _, err := s.Run(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Run of an unknown id: err %v, want ErrNotFound", err)
	}
	pts, err := s.Points(ctx, t0.Add(time.Minute)) // leaves out the late one
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 4 || pts[0].Outcome != result.OutcomeFailure || pts[0].Device != "mobile" || pts[3].DurationSeconds != 1.04 {
		t.Errorf("Points: %+v", pts)
	}
}

// TestResultRoundTrip: the stored JSON is the whole result, so fields
// others add to result.Result come back without a migration.
func TestResultRoundTrip(t *testing.T) { eachStore(t, testResultRoundTrip) }

func testResultRoundTrip(t *testing.T, st storeKind) {
	s := st.open(t, Options{})
	r := run("search", "mobile", 0, scenarios.KindAssertion)
	lcp := 1.5
	r.Pages = []result.Page{{URL: "http://x/", Step: "open", Status: 200, LCPSeconds: &lcp}}
	r.FailedRequests = []result.FailedRequest{{URL: "http://x/a", Status: 500}}
	r.ConsoleErrors = []string{"boom"}
	export(t, s, r)
	got, err := s.Run(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Result.Pages[0].LCPSeconds != 1.5 || got.Result.FailedRequests[0].Status != 500 || got.Result.ConsoleErrors[0] != "boom" || got.Result.Error.Kind != scenarios.KindAssertion {
		t.Errorf("round trip lost fields: %+v", got.Result)
	}
}

func TestArtifacts(t *testing.T) { eachStore(t, testArtifacts) }

func testArtifacts(t *testing.T, st storeKind) {
	s := st.open(t, Options{})
	src := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(src, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	r := run("checkout", "desktop", 0, scenarios.KindNavigation)
	r.Screenshots = []string{write("cart.png", "first"), write("failure-pay.png", "png"), filepath.Join(src, "never-written.png")}
	r.HAR = write("network.har", `{"log":{}}`)
	r.Downloads = []result.Download{{Step: "invoice", FileName: "invoice.pdf", SizeBytes: 3, Complete: true, Path: write("invoice.pdf", "pdf")},
		{Step: "other", FileName: "not-kept.zip", Complete: true}}
	r.Filmstrip = []result.Frame{{Path: write("frame-001.jpg", "jpeg1"), T: 0}, {Path: write("frame-002.jpg", "jpeg22"), T: 0.25, Step: "pay"},
		{Path: filepath.Join(src, "frame-003.jpg"), T: 0.4, Step: "pay"}}
	export(t, s, r)
	// The runner overwrites its files at the next run; the history keeps
	// what this run saw.
	write("cart.png", "second")

	ctx := context.Background()
	got, err := s.Run(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A frame's time and step are listed with it; the frame the runner
	// could not write is not.
	first, second := 0.0, 0.25
	want := []Artifact{{Name: "cart.png", Kind: KindScreenshot, Bytes: 5}, {Name: "failure-pay.png", Kind: KindScreenshot, Bytes: 3},
		{Name: "network.har", Kind: KindHAR, Bytes: 10},
		{Name: "frame-001.jpg", Kind: KindFrame, Bytes: 5, T: &first}, {Name: "frame-002.jpg", Kind: KindFrame, Bytes: 6, T: &second, Step: "pay"},
		{Name: "invoice.pdf", Kind: KindDownload, Bytes: 3}}
	if !slices.EqualFunc(got.Artifacts, want, sameArtifact) {
		t.Errorf("artifacts %s, want %s", fmtArtifacts(got.Artifacts), fmtArtifacts(want))
	}
	if frames := got.Frames(); len(frames) != 2 || frames[1].Name != "frame-002.jpg" {
		t.Errorf("Frames() = %s", fmtArtifacts(frames))
	}
	// The listing of many runs gives the frames their times too.
	if runs, err := s.Runs(ctx, Query{}); err != nil || len(runs) != 1 || !slices.EqualFunc(runs[0].Artifacts, want, sameArtifact) {
		t.Errorf("Runs: %v, %v", runs, err)
	}
	if data, a, err := s.ReadArtifact(ctx, r.ID, "frame-002.jpg"); err != nil || string(data) != "jpeg22" || a.Kind != KindFrame {
		t.Errorf("ReadArtifact(frame-002.jpg) = %q, %+v, %v", data, a, err)
	}
	if h, ok := got.HAR(); !ok || h.Name != "network.har" {
		t.Errorf("HAR() = %v, %v", h, ok)
	}
	f, a, err := s.OpenArtifact(ctx, r.ID, "cart.png")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(f)
	f.Close()
	if string(body) != "first" || a.Kind != KindScreenshot || a.Bytes != 5 {
		t.Errorf("cart.png = %q (%+v), want the run's own copy", body, a)
	}
	if data, _, err := s.ReadArtifact(ctx, r.ID, "invoice.pdf"); err != nil || string(data) != "pdf" {
		t.Errorf("ReadArtifact(invoice.pdf) = %q, %v", data, err)
	}
	for _, name := range []string{"never-written.png", "../uxprobe.db", "nope"} {
		if _, _, err := s.OpenArtifact(ctx, r.ID, name); !errors.Is(err, ErrNotFound) {
			t.Errorf("OpenArtifact(%q): err %v, want ErrNotFound", name, err)
		}
	}
	// Another agent on the same store serves the files: they are in the
	// database, not beside the agent that ran the flow.
	other := reopen(t, s, Options{})
	if data, _, err := other.ReadArtifact(ctx, r.ID, "failure-pay.png"); err != nil || string(data) != "png" {
		t.Errorf("another Store reads failure-pay.png = %q, %v", data, err)
	}
	// Retention counts the files.
	if b, err := s.Bytes(ctx); err != nil || b < 5+3+10+3 {
		t.Errorf("Bytes = %d, %v; want the artifacts counted", b, err)
	}
}

func sameArtifact(a, b Artifact) bool {
	return a.Name == b.Name && a.Kind == b.Kind && a.Bytes == b.Bytes && a.Step == b.Step &&
		(a.T == nil) == (b.T == nil) && (a.T == nil || *a.T == *b.T)
}

func fmtArtifacts(as []Artifact) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "{%s %s %d", a.Name, a.Kind, a.Bytes)
		if a.T != nil {
			fmt.Fprintf(&b, " t=%v step=%q", *a.T, a.Step)
		}
		b.WriteString("} ")
	}
	return b.String()
}

func TestInvalidID(t *testing.T) { eachStore(t, testInvalidID) }

func testInvalidID(t *testing.T, st storeKind) {
	s := st.open(t, Options{})
	for _, id := range []string{"../x", "a/b", ".hidden", strings.Repeat("a", 65)} {
		r := run("search", "desktop", 0, "")
		r.ID = id
		if err := s.Export(context.Background(), r); err == nil {
			t.Errorf("Export with id %q: no error", id)
		}
	}
}

func TestRetention(t *testing.T) { eachStore(t, testRetention) }

func testRetention(t *testing.T, st storeKind) {
	day := 24 * 60
	tests := []struct {
		name string
		opts Options
		runs []*result.Result
		want []string // what is left, newest first
	}{
		{
			name: "by age, keeping the last success and failure",
			opts: Options{Retention: 2 * 24 * time.Hour, RetentionSize: -1},
			runs: []*result.Result{
				run("search", "desktop", 0, ""),                                // old, but the last success
				run("search", "desktop", 1, scenarios.KindTimeout),             // old, older failure
				run("search", "desktop", 2, scenarios.KindTimeout),             // old, but the last failure
				run("search", "desktop", 3, scenarios.KindBrowser),             // old error: not protected
				run("search", "mobile", 4, ""),                                 // old
				run("search", "mobile", 3*day, scenarios.KindNavigation),       // recent
				run("search", "mobile", 3*day+1, ""),                           // recent, the last success
				run("checkout", "desktop", day, scenarios.KindElementNotFound), // old, the last failure
			},
			want: []string{"search/mobile@12:01", "search/mobile@12:00", "checkout/desktop@12:00", "search/desktop@12:02", "search/desktop@12:00"},
		},
		{
			name: "by age, the last success of each location",
			opts: Options{Retention: 2 * 24 * time.Hour, RetentionSize: -1},
			runs: []*result.Result{
				at("search", "desktop", "eu", "a", 0, ""),     // old, but eu's last success
				at("search", "desktop", "us", "b", 1, ""),     // old, us has a later one
				at("search", "desktop", "us", "b", 3*day, ""), // recent
			},
			want: []string{"search/desktop@12:00", "search/desktop@12:00"},
		},
		{
			name: "forever",
			opts: Options{Retention: -1, RetentionSize: -1},
			runs: []*result.Result{run("search", "desktop", 0, ""), run("search", "desktop", 1, "")},
			want: []string{"search/desktop@12:01", "search/desktop@12:00"},
		},
		{
			name: "by size, oldest first",
			// Each run is a few hundred bytes of JSON; 1500 keeps the
			// three newest of six successes.
			opts: Options{Retention: -1, RetentionSize: 1500},
			runs: []*result.Result{
				run("search", "desktop", 0, ""), run("search", "desktop", 1, ""), run("search", "desktop", 2, ""),
				run("search", "desktop", 3, ""), run("search", "desktop", 4, ""), run("search", "desktop", 5, ""),
			},
			want: []string{"search/desktop@12:05", "search/desktop@12:04", "search/desktop@12:03"},
		},
		{
			name: "by size, never the protected ones",
			opts: Options{Retention: -1, RetentionSize: 1},
			runs: []*result.Result{
				run("search", "desktop", 0, scenarios.KindTimeout), run("search", "desktop", 1, ""), run("search", "desktop", 2, ""),
			},
			want: []string{"search/desktop@12:02", "search/desktop@12:00"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Now = func() time.Time { return t0.Add(4 * 24 * time.Hour) }
			s := st.open(t, tt.opts)
			src := t.TempDir()
			for i, r := range tt.runs {
				p := filepath.Join(src, fmt.Sprintf("s%d.png", i))
				if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
				r.Screenshots = []string{p}
			}
			export(t, s, tt.runs...)
			if n, err := s.Prune(context.Background()); err != nil || n != len(tt.runs)-len(tt.want) {
				t.Errorf("Prune = %d, %v; want %d deleted", n, err, len(tt.runs)-len(tt.want))
			}
			left, err := s.Runs(context.Background(), Query{})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(left); !slices.Equal(got, tt.want) {
				t.Errorf("left %q, want %q", got, tt.want)
			}
			if tt.opts.RetentionSize == 1500 {
				if b, _ := s.Bytes(context.Background()); b > 1500 {
					t.Errorf("%d bytes left, above the bound", b)
				}
			}
			// The artifacts went with their runs.
			var arts int
			if err := s.db().QueryRow(`SELECT COUNT(*) FROM artifacts`).Scan(&arts); err != nil {
				t.Fatal(err)
			}
			if arts != len(tt.want) {
				t.Errorf("%d artifacts left for %d runs", arts, len(tt.want))
			}
		})
	}
}

// TestLegacyArtifactsImported: a store of schema version 1 kept its files
// under artifacts/RUN/; Open moves them into the database and removes the
// directory, so that the runs keep their screenshots.
func TestLegacyArtifactsImported(t *testing.T) {
	dir := t.TempDir()
	db, err := openDB(filepath.Join(dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateTo(context.Background(), db, sqliteDialect, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO runs (id, flow, device, started_ms, outcome, failing_step, kind, duration_seconds, bytes, result)
		VALUES ('r1', 'search', 'desktop', 0, 'success', '', '', 1, 10, '{"flow":"search","device":"desktop"}');
		INSERT INTO artifacts (run_id, name, kind, bytes) VALUES ('r1', 'shot.png', 'screenshot', 3), ('r1', 'gone.png', 'screenshot', 4);`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := os.MkdirAll(filepath.Join(dir, "artifacts", "r1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "artifacts", "r1", "shot.png"), []byte("png"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := open(t, dir, Options{})
	ctx := context.Background()
	if data, _, err := s.ReadArtifact(ctx, "r1", "shot.png"); err != nil || string(data) != "png" {
		t.Errorf("shot.png = %q, %v", data, err)
	}
	if _, _, err := s.ReadArtifact(ctx, "r1", "gone.png"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a file that was gone: err %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "artifacts")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the artifacts directory is still there: %v", err)
	}
}

// TestConcurrentWriters: ten agents (ten Stores on one database) commit at
// once, each retrying some of its runs as after a commit whose answer was
// lost: every run is stored once, none lost, none twice.
func TestConcurrentWriters(t *testing.T) { eachStore(t, testConcurrentWriters) }

func testConcurrentWriters(t *testing.T, st storeKind) {
	first := st.open(t, Options{})
	const writers, perWriter = 10, 20
	stores := []*Store{first}
	for range writers - 1 {
		stores = append(stores, reopen(t, first, Options{}))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers*perWriter)
	for w, s := range stores {
		wg.Go(func() {
			for i := range perWriter {
				r := run(fmt.Sprintf("flow%d", w), "desktop", i, "")
				r.Location, r.Agent = "eu", fmt.Sprintf("agent-%d", w)
				if err := s.Export(context.Background(), r); err != nil {
					errs <- err
				}
				if i%5 == 0 { // the retry of a run already committed
					if err := s.Export(context.Background(), r); err != nil {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ctx := context.Background()
	if n, err := first.Count(ctx); err != nil || n != writers*perWriter {
		t.Errorf("Count = %d, %v; want %d", n, err, writers*perWriter)
	}
	for w := range writers {
		runs, err := first.Runs(ctx, Query{Agent: fmt.Sprintf("agent-%d", w), Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, r := range runs {
			if seen[r.ID] {
				t.Errorf("run %s stored twice", r.ID)
			}
			seen[r.ID] = true
		}
		if len(runs) != perWriter {
			t.Errorf("agent-%d: %d runs stored, want %d", w, len(runs), perWriter)
		}
	}
}

// TestStoreErrors: a store that fails a write (SQLite: the database cannot
// grow, as on a full disk) reports it to OnError and keeps the run in its
// queue; the run is written once the cause is gone, in order, with the
// next one.
func TestStoreErrors(t *testing.T) {
	var mu sync.Mutex
	var errs []string
	s := open(t, t.TempDir(), Options{OnError: func(op string, err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, op)
	}, RetryInterval: 20 * time.Millisecond})
	ctx := context.Background()
	export(t, s, run("search", "desktop", 0, ""))

	// max_page_count is a connection's setting: pin the pool to the one
	// connection that has it. SQLite answers SQLITE_FULL.
	s.db().SetMaxOpenConns(1)
	var pages int
	if err := s.db().QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db().Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
		t.Fatal(err)
	}
	big := run("search", "desktop", 1, scenarios.KindScript)
	big.ConsoleErrors = []string{strings.Repeat("x", 1<<20)}
	err := s.Export(ctx, big)
	if err == nil || !strings.Contains(err.Error(), "full") || !strings.Contains(err.Error(), "queued") {
		t.Fatalf("Export into a full database: err %v, want database or disk is full, queued", err)
	}
	if s.Waiting() != 1 {
		t.Errorf("Waiting = %d, want 1", s.Waiting())
	}
	if _, err := s.db().Exec(`PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	s.db().SetMaxOpenConns(0)
	deadline := time.Now().Add(10 * time.Second)
	for s.Waiting() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	export(t, s, run("search", "desktop", 2, ""))
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(errs, []string{"write"}) {
		t.Errorf("OnError heard %q, want one write error", errs)
	}
	if n, _ := s.Count(ctx); n != 3 || s.Waiting() != 0 {
		t.Errorf("%d runs stored, %d waiting; want 3 and 0", n, s.Waiting())
	}
}

func TestOpenBrokenStore(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"newer schema", func(t *testing.T, dir string) {
			s := open(t, dir, Options{})
			if _, err := s.db().Exec(fmt.Sprintf(`PRAGMA user_version = %d`, SchemaVersion+1)); err != nil {
				t.Fatal(err)
			}
		}, "newer than this uxprobe knows"},
		{"storage path is a file", func(t *testing.T, dir string) {
			if err := os.Remove(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dir, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			tt.setup(t, dir)
			s, err := Open(context.Background(), dir, Options{})
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %q, want it to say %q", err, tt.want)
			}
		})
	}
}

// TestOpenBrokenURL: what waiting does not cure fails Open, without the
// password in the error.
func TestOpenBrokenURL(t *testing.T) {
	good := pgtest.URL(t)
	u, err := url.Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	noDB := *u
	noDB.Path = "/no_such_database"
	noDB.User = url.UserPassword("postgres", "s3cret-pw")
	newer := pgtest.URL(t)
	s := openURL(t, newer, Options{})
	if _, err := s.db().Exec(`UPDATE history_schema SET version = $1`, SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, url, want string }{
		{"not a URL", "host=x password=s3cret-pw", "want a URL such as postgres://"},
		{"no such database", noDB.String(), "no_such_database"},
		{"newer schema", newer, "newer than this uxprobe knows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenURL(context.Background(), tt.url, Options{})
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("err %q, want it to say %q and not the password", err, tt.want)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want, pw string }{
		{"postgres://u:pw@db:5432/x?sslmode=require", "postgres://u@db:5432/x?sslmode=require", "pw"},
		{"postgresql://u@db/x", "postgresql://u@db/x", ""},
		{"postgres://db/x?password=pw&sslmode=disable", "postgres://db/x?sslmode=disable", "pw"},
	}
	for _, tt := range tests {
		got, pw, err := RedactURL(tt.in)
		if err != nil || got != tt.want || pw != tt.pw {
			t.Errorf("RedactURL(%q) = %q, %q, %v; want %q, %q", tt.in, got, pw, err, tt.want, tt.pw)
		}
	}
	for _, bad := range []string{"", "mysql://u:pw@db/x", "u:pw@db", "host=db password=pw"} {
		if _, _, err := RedactURL(bad); err == nil || strings.Contains(err.Error(), "pw") {
			t.Errorf("RedactURL(%q): err %v, want an error without the password", bad, err)
		}
	}
}

// TestKill: a process killed with SIGKILL while it writes loses no run that
// Export had returned (what the agent shows on /metrics only after Export),
// and the store opens cleanly afterwards.
func TestKill(t *testing.T) { eachStore(t, testKill) }

func testKill(t *testing.T, st storeKind) {
	target := t.TempDir()
	if st.name == "postgres" {
		target = pgtest.URL(t)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "UXPROBE_HISTORY_KILL_CHILD="+target)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var committed []string
	sc := bufio.NewScanner(out)
	for sc.Scan() && len(committed) < 60 {
		if id, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
			committed = append(committed, id)
		}
	}
	// The child is mid-write now: it writes without pause.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, out)
	_ = cmd.Wait()
	if len(committed) < 60 {
		t.Fatalf("the child committed only %d runs before it ended", len(committed))
	}

	var s *Store
	if st.name == "postgres" {
		s = openURL(t, target, Options{})
	} else {
		s = open(t, target, Options{})
		var check string
		if err := s.db().QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
			t.Errorf("integrity_check = %q, %v", check, err)
		}
	}
	for _, id := range committed {
		if _, err := s.Run(context.Background(), id); err != nil {
			t.Errorf("run %s was committed before SIGKILL and is gone: %v", id, err)
		}
	}
}

// TestKillChild is the process TestKill kills; it does nothing on its own.
func TestKillChild(t *testing.T) {
	target := os.Getenv("UXPROBE_HISTORY_KILL_CHILD")
	if target == "" {
		t.Skip("run by TestKill")
	}
	var s *Store
	var err error
	if strings.HasPrefix(target, "postgres://") {
		s, err = OpenURL(context.Background(), target, Options{})
	} else {
		s, err = Open(context.Background(), target, Options{})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shot := filepath.Join(t.TempDir(), "shot.png")
	if err := os.WriteFile(shot, []byte(strings.Repeat("png", 1000)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i := 0; ; i++ {
		r := run("search", "desktop", i, "")
		r.Screenshots = []string{shot}
		if err := s.Export(context.Background(), r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("committed %s\n", r.ID)
	}
}

// at makes a run of the flow on the device in a location by an agent.
func at(flow, device, location, agent string, minutes int, kind scenarios.ErrorKind) *result.Result {
	r := run(flow, device, minutes, kind)
	r.Location, r.Agent = location, agent
	return r
}

// TestFleetQueries: the queries a fleet's status page needs, by location.
func TestFleetQueries(t *testing.T) { eachStore(t, testFleetQueries) }

func testFleetQueries(t *testing.T, st storeKind) {
	s := st.open(t, Options{})
	export(t, s,
		at("checkout", "desktop", "eu", "eu-1", 0, ""),
		at("checkout", "desktop", "us", "us-1", 1, scenarios.KindNavigation),
		at("checkout", "desktop", "eu", "eu-2", 2, scenarios.KindTimeout),
		at("checkout", "mobile", "eu", "eu-1", 3, ""),
		at("checkout", "desktop", "us", "us-1", 4, ""),
		at("search", "desktop", "", "solo", 5, ""),
	)
	ctx := context.Background()
	where := func(runs []Run) []string {
		out := make([]string, len(runs))
		for i, r := range runs {
			out[i] = r.Result.Flow + "/" + r.Result.Device + "/" + r.Result.Location + "@" + r.Result.StartedAt.Format("15:04")
		}
		return out
	}
	byLoc, err := s.LatestByLocation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := where(byLoc), []string{"checkout/desktop/eu@12:02", "checkout/desktop/us@12:04", "checkout/mobile/eu@12:03", "search/desktop/@12:05"}; !slices.Equal(got, want) {
		t.Errorf("LatestByLocation = %q, want %q", got, want)
	}
	latest, err := s.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := where(latest), []string{"checkout/desktop/us@12:04", "checkout/mobile/eu@12:03", "search/desktop/@12:05"}; !slices.Equal(got, want) {
		t.Errorf("Latest = %q, want %q", got, want)
	}
	locs, err := s.Locations(ctx)
	if err != nil || !slices.Equal(locs, []string{"", "eu", "us"}) {
		t.Errorf("Locations = %q, %v", locs, err)
	}
	for _, tt := range []struct {
		q    Query
		want []string
	}{
		{Query{Location: "eu"}, []string{"checkout/mobile/eu@12:03", "checkout/desktop/eu@12:02", "checkout/desktop/eu@12:00"}},
		{Query{Location: "us", Outcome: result.OutcomeFailure}, []string{"checkout/desktop/us@12:01"}},
		{Query{Agent: "eu-2"}, []string{"checkout/desktop/eu@12:02"}},
		{Query{Flow: "checkout", Device: "desktop", Location: "us"}, []string{"checkout/desktop/us@12:04", "checkout/desktop/us@12:01"}},
	} {
		runs, err := s.Runs(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		if got := where(runs); !slices.Equal(got, tt.want) {
			t.Errorf("Runs(%+v) = %q, want %q", tt.q, got, tt.want)
		}
	}
	good, err := s.LastOfAt(ctx, "checkout", "desktop", "eu", result.OutcomeSuccess)
	if err != nil || good.Result.Agent != "eu-1" || good.Result.Location != "eu" {
		t.Errorf("LastOfAt eu success = %+v, %v", good.Result, err)
	}
	if _, err := s.LastOfAt(ctx, "checkout", "mobile", "us", result.OutcomeSuccess); !errors.Is(err, ErrNotFound) {
		t.Errorf("LastOfAt of no run: err %v, want ErrNotFound", err)
	}
	pts, err := s.Points(ctx, t0)
	if err != nil || len(pts) != 6 || pts[1].Location != "us" || pts[5].Location != "" {
		t.Errorf("Points = %+v, %v", pts, err)
	}
}

// TestRetentionOverTheFleet: the size bound is the store's, over every
// agent that writes it, artifacts included: one agent's prune bounds the
// runs of all.
func TestRetentionOverTheFleet(t *testing.T) { eachStore(t, testRetentionOverTheFleet) }

func testRetentionOverTheFleet(t *testing.T, st storeKind) {
	a := st.open(t, Options{Retention: -1, RetentionSize: -1})
	b := reopen(t, a, Options{Retention: -1, RetentionSize: 6000})
	shot := filepath.Join(t.TempDir(), "s.png")
	if err := os.WriteFile(shot, make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		for j, s := range []*Store{a, b} {
			r := at("search", "desktop", "eu", fmt.Sprintf("agent-%d", j), 2*i+j, "")
			r.Screenshots = []string{shot}
			export(t, s, r)
		}
	}
	ctx := context.Background()
	n, err := b.Prune(ctx)
	if err != nil || n == 0 {
		t.Fatalf("Prune = %d, %v", n, err)
	}
	if total, err := a.Bytes(ctx); err != nil || total > 6000 {
		t.Errorf("%d bytes left, want at most 6000 over both agents", total)
	}
	var arts int
	if err := a.db().QueryRow(`SELECT COUNT(*) FROM artifacts`).Scan(&arts); err != nil {
		t.Fatal(err)
	}
	if left, _ := a.Count(ctx); left != arts || left >= 12 {
		t.Errorf("%d runs and %d artifacts left of 12", left, arts)
	}
}
