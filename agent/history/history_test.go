package history

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uxprobe/uxprobe/agent/result"
	"github.com/uxprobe/uxprobe/scenarios"
)

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

func TestQueries(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
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
func TestResultRoundTrip(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
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

func TestArtifacts(t *testing.T) {
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "store"), Options{})
	src := filepath.Join(dir, "artifacts")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
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
	export(t, s, r)
	// The runner overwrites its files at the next run; the history keeps
	// what this run saw.
	write("cart.png", "second")

	ctx := context.Background()
	got, err := s.Run(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []Artifact{{"cart.png", KindScreenshot, 5}, {"failure-pay.png", KindScreenshot, 3}, {"network.har", KindHAR, 10}}
	if !slices.Equal(got.Artifacts, want) {
		t.Errorf("artifacts %+v, want %+v", got.Artifacts, want)
	}
	if h, ok := got.HAR(); !ok || h.Name != "network.har" {
		t.Errorf("HAR() = %v, %v", h, ok)
	}
	f, _, err := s.OpenArtifact(ctx, r.ID, "cart.png")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(f)
	f.Close()
	if string(body) != "first" {
		t.Errorf("cart.png = %q, want the run's own copy", body)
	}
	for _, name := range []string{"never-written.png", "../uxprobe.db", "nope"} {
		if _, _, err := s.OpenArtifact(ctx, r.ID, name); !errors.Is(err, ErrNotFound) {
			t.Errorf("OpenArtifact(%q): err %v, want ErrNotFound", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "artifacts", r.ID, "cart.png")); err != nil {
		t.Errorf("artifact not named by the run id: %v", err)
	}
}

func TestInvalidID(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	for _, id := range []string{"../x", "a/b", ".hidden", strings.Repeat("a", 65)} {
		r := run("search", "desktop", 0, "")
		r.ID = id
		if err := s.Export(context.Background(), r); err == nil {
			t.Errorf("Export with id %q: no error", id)
		}
	}
}

func TestRetention(t *testing.T) {
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
			s := open(t, t.TempDir(), tt.opts)
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
			dirs, err := os.ReadDir(filepath.Join(s.Dir(), "artifacts"))
			if err != nil {
				t.Fatal(err)
			}
			if len(dirs) != len(tt.want) {
				t.Errorf("%d artifact directories left for %d runs", len(dirs), len(tt.want))
			}
		})
	}
}

func TestOrphanedArtifactsSwept(t *testing.T) {
	now := t0
	s := open(t, t.TempDir(), Options{Now: func() time.Time { return now }})
	orphan := filepath.Join(s.Dir(), "artifacts", "20261201T120000Z-000000000000")
	if err := os.MkdirAll(orphan, 0o755); err != nil {
		t.Fatal(err)
	}
	old := t0.Add(-time.Hour)
	if err := os.Chtimes(orphan, old, old); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(s.Dir(), "artifacts", "being-written")
	if err := os.MkdirAll(fresh, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(fresh, t0, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("orphaned directory kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a directory still being written was removed: %v", err)
	}
}

// TestConcurrentWriters: parallel runs of one agent and a second process
// (uxprobe check) on the same store lose nothing.
func TestConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	stores := []*Store{open(t, dir, Options{}), open(t, dir, Options{})}
	const perWriter = 25
	var wg sync.WaitGroup
	errs := make(chan error, 8*perWriter)
	for w := range 8 {
		s := stores[w%2]
		wg.Go(func() {
			for i := range perWriter {
				if err := s.Export(context.Background(), run(fmt.Sprintf("flow%d", w), "desktop", i, "")); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := stores[0].Count(context.Background()); err != nil || n != 8*perWriter {
		t.Errorf("Count = %d, %v; want %d", n, err, 8*perWriter)
	}
}

// TestStoreErrors: a full disk or a broken artifacts directory fails the
// write, is reported to OnError, and the store works again once the cause
// is gone.
func TestStoreErrors(t *testing.T) {
	var mu sync.Mutex
	var errs []string
	s := open(t, t.TempDir(), Options{OnError: func(op string, err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, op)
	}})
	ctx := context.Background()
	export(t, s, run("search", "desktop", 0, ""))

	t.Run("full", func(t *testing.T) {
		// max_page_count is a connection's setting: pin the pool to the one
		// connection that has it. The database cannot grow, as on a full
		// disk: SQLite answers SQLITE_FULL.
		s.db.SetMaxOpenConns(1)
		defer s.db.SetMaxOpenConns(0)
		var pages int
		if err := s.db.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
			t.Fatal(err)
		}
		big := run("search", "desktop", 1, scenarios.KindScript)
		big.ConsoleErrors = []string{strings.Repeat("x", 1<<20)}
		err := s.Export(ctx, big)
		if err == nil || !strings.Contains(err.Error(), "full") {
			t.Fatalf("Export into a full database: err %v, want database or disk is full", err)
		}
		if _, err := s.db.Exec(`PRAGMA max_page_count = 1073741823`); err != nil {
			t.Fatal(err)
		}
		export(t, s, run("search", "desktop", 2, ""))
	})
	t.Run("artifacts not writable", func(t *testing.T) {
		arts := filepath.Join(s.Dir(), "artifacts")
		if err := os.Rename(arts, arts+".moved"); err != nil {
			t.Fatal(err)
		}
		// A file where the directory should be: root ignores permissions,
		// not this.
		if err := os.WriteFile(arts, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		shot := filepath.Join(t.TempDir(), "s.png")
		if err := os.WriteFile(shot, []byte("png"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := run("search", "desktop", 3, "")
		r.Screenshots = []string{shot}
		if err := s.Export(ctx, r); err == nil {
			t.Fatal("Export with a broken artifacts directory: no error")
		}
		if _, err := s.Run(ctx, r.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("a run whose artifacts failed was committed: %v", err)
		}
		if err := os.Remove(arts); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(arts+".moved", arts); err != nil {
			t.Fatal(err)
		}
		export(t, s, r)
	})
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(errs, []string{"write", "write"}) {
		t.Errorf("OnError heard %q, want two write errors", errs)
	}
	if n, _ := s.Count(ctx); n != 3 {
		t.Errorf("%d runs stored, want 3", n)
	}
}

func TestOpenBrokenStore(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"not a database", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, DBFile), []byte(strings.Repeat("not sqlite ", 1000)), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "not a database"},
		{"newer schema", func(t *testing.T, dir string) {
			s := open(t, dir, Options{})
			if _, err := s.db.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, SchemaVersion+1)); err != nil {
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

// TestKill: a process killed with SIGKILL while it writes loses no run that
// Export had returned (what the agent shows on /metrics only after Export),
// and the store opens cleanly afterwards.
func TestKill(t *testing.T) {
	if dir := os.Getenv("UXPROBE_HISTORY_KILL_CHILD"); dir != "" {
		killChild(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), "UXPROBE_HISTORY_KILL_CHILD="+dir)
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

	s := open(t, dir, Options{})
	var check string
	if err := s.db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}
	for _, id := range committed {
		if _, err := s.Run(context.Background(), id); err != nil {
			t.Errorf("run %s was committed before SIGKILL and is gone: %v", id, err)
		}
	}
}

func killChild(dir string) {
	s, err := Open(context.Background(), dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shot := filepath.Join(dir, "shot.png")
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
