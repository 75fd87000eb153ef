package history

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/uxprobe/uxprobe/agent/pgtest"
)

var update = flag.Bool("update", false, "rewrite the golden schema files under testdata/")

// dumpSchema is the schema as SQLite keeps it, one statement per entry.
func dumpSchema(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type DESC, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		b.WriteString(s + ";\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func schemaFile(v int) string { return filepath.Join("testdata", fmt.Sprintf("schema-v%d.sql", v)) }

// TestSchemaGolden pins what each migration makes. A released version's
// file never changes: TestMigrateFromEveryVersion builds old stores from
// these files, not from the migrations, so an edited old migration shows.
func TestSchemaGolden(t *testing.T) {
	for v := 1; v <= SchemaVersion; v++ {
		t.Run(fmt.Sprint(v), func(t *testing.T) {
			db, err := openDB(filepath.Join(t.TempDir(), DBFile))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := migrateTo(context.Background(), db, sqliteDialect, v); err != nil {
				t.Fatal(err)
			}
			got := dumpSchema(t, db)
			if *update {
				if err := os.WriteFile(schemaFile(v), []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(schemaFile(v))
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("schema version %d differs from %s (released migrations must not change):\n%s", v, schemaFile(v), got)
			}
		})
	}
}

// TestMigrateFromEveryVersion opens a store at every earlier schema
// version, with the data that version held (testdata/data-vN.sql), and
// checks that it comes out at the current schema with its runs readable.
// Version 0 is a new, empty store. SQLite's old stores are built from the
// golden schema files, PostgreSQL's by the migrations up to that version.
func TestMigrateFromEveryVersion(t *testing.T) {
	want, err := os.ReadFile(schemaFile(SchemaVersion))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range stores {
		for v := 0; v <= SchemaVersion; v++ {
			t.Run(fmt.Sprintf("%s/%d", st.name, v), func(t *testing.T) {
				var db *sql.DB
				var dir, pgURL string
				d := sqliteDialect
				if st.name == "postgres" {
					d, pgURL = postgresDialect, pgtest.URL(t)
					db = sql.OpenDB(mustConnector(t, pgURL))
					if err := migrateTo(context.Background(), db, d, v); err != nil {
						t.Fatal(err)
					}
				} else {
					dir = t.TempDir()
					if db, err = openDB(filepath.Join(dir, DBFile)); err != nil {
						t.Fatal(err)
					}
				}
				runs := 0
				if v > 0 {
					files := []string{filepath.Join("testdata", fmt.Sprintf("data-v%d.sql", v))}
					if st.name == "sqlite" {
						files = append([]string{schemaFile(v)}, files...)
					}
					for _, f := range files {
						text, err := os.ReadFile(f)
						if err != nil {
							t.Fatal(err)
						}
						if _, err := db.Exec(string(text)); err != nil {
							t.Fatalf("%s: %v", f, err)
						}
					}
					if st.name == "sqlite" {
						if _, err := db.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, v)); err != nil {
							t.Fatal(err)
						}
					}
					if err := db.QueryRow(`SELECT COUNT(*) FROM runs`).Scan(&runs); err != nil || runs == 0 {
						t.Fatalf("data-v%d.sql holds no runs: %v", v, err)
					}
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}

				var s *Store
				if st.name == "postgres" {
					s = openURL(t, pgURL, Options{})
				} else {
					s = open(t, dir, Options{})
					var got int
					if err := s.db().QueryRow(`PRAGMA user_version`).Scan(&got); err != nil || got != SchemaVersion {
						t.Fatalf("user_version = %d, %v; want %d", got, err, SchemaVersion)
					}
					if schema := dumpSchema(t, s.db()); schema != string(want) {
						t.Errorf("migrated schema differs from %s:\n%s", schemaFile(SchemaVersion), schema)
					}
				}
				all, err := s.Runs(context.Background(), Query{})
				if err != nil {
					t.Fatal(err)
				}
				if len(all) != runs {
					t.Errorf("%d runs after migrating, want %d", len(all), runs)
				}
				for _, r := range all {
					if r.Result.Flow == "" || r.Result.StartedAt.IsZero() || len(r.Result.Steps) == 0 {
						t.Errorf("run %s lost its result: %+v", r.ID, r.Result)
					}
				}
				// And it takes new runs.
				export(t, s, run("search", "desktop", 0, ""))
			})
		}
	}
}

func mustConnector(t *testing.T, url string) driver.Connector {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	return stdlib.GetConnector(*cfg)
}
