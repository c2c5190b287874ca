package postgres_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mpassid/mpassid/internal/store"
	"github.com/mpassid/mpassid/internal/store/postgres"
	"github.com/mpassid/mpassid/internal/store/storetest"
	"github.com/mpassid/mpassid/internal/testenv"
)

// freshSchema creates an empty schema, dropped when the test ends, and
// returns a DSN whose search_path selects it.
func freshSchema(tb testing.TB) string {
	tb.Helper()
	dsn := testenv.PostgresDSN(tb)
	ctx := tb.Context()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	schema := "t_" + strings.ToLower(rand.Text())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(tb, dsn, schema)
}

func withSearchPath(tb testing.TB, dsn, schema string) string {
	if !strings.Contains(dsn, "://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openDSN(tb testing.TB, dsn string) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(tb.Context(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func open(tb testing.TB) store.Store {
	tb.Helper()
	s := openDSN(tb, freshSchema(tb))
	if err := s.Migrate(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	testenv.PostgresDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func BenchmarkStore(b *testing.B) {
	testenv.PostgresDSN(b)
	storetest.Bench(b, func(b *testing.B) store.Store { return open(b) })
}

// Instances starting together migrate a fresh database one after the other.
func TestConcurrentMigrate(t *testing.T) {
	dsn := freshSchema(t)
	const n = 3
	var stores []*postgres.Store
	for range n {
		stores = append(stores, openDSN(t, dsn))
	}
	if ok, err := stores[0].MigrationsCurrent(t.Context()); err != nil || ok {
		t.Fatalf("fresh schema: MigrationsCurrent = %v, %v", ok, err)
	}
	var wg sync.WaitGroup
	for _, s := range stores {
		wg.Go(func() {
			if err := s.Migrate(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, s := range stores {
		if ok, err := s.MigrationsCurrent(t.Context()); err != nil || !ok {
			t.Errorf("MigrationsCurrent = %v, %v", ok, err)
		}
	}
}

// The lock is cluster-wide: another store (another instance) cannot take it.
func TestTryLockAcrossStores(t *testing.T) {
	dsn := freshSchema(t)
	a, b := openDSN(t, dsn), openDSN(t, dsn)
	release, err := a.TryLock(t.Context(), "sync")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.TryLock(t.Context(), "sync"); err == nil {
		t.Fatal("second instance took a held lock")
	}
	release()
	rel, err := b.TryLock(t.Context(), "sync")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	rel()
}

// Open fails fast, with an error, when the server is not there.
func TestOpenUnreachable(t *testing.T) {
	start := time.Now()
	_, err := postgres.Open(t.Context(), "postgres://postgres:secret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Open took %v to fail", d)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error reveals the password: %v", err)
	}
	t.Log(err)
	if _, err := postgres.Open(t.Context(), "postgres://%zz"); err == nil {
		t.Error("Open accepted an invalid DSN")
	}
}

// Concurrent writes share batches; each keeps the outcome it would have
// had alone: every value is marked fresh exactly once, and a statement
// that fails in a batch (a NUL byte, which a text column refuses) fails
// alone while the others of its batch land.
func TestBatchedWritesKeepTheirOwnOutcome(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	const values, tries = 40, 5
	var (
		wg                 sync.WaitGroup
		mu                 sync.Mutex
		fresh              = make([]int, values)
		badErrs, goodErrs  int
		sessions, sessErrs int
	)
	for i := range values * tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("session-%d", i)
			if i%7 == 0 {
				id = "bad\x00session"
			}
			err := s.PutSession(ctx, store.Session{ID: id, SubjectHash: "h", Data: []byte("{}"), ExpiresAt: exp, IdleExpiresAt: exp})
			ok, merr := s.MarkUsed(ctx, "batch-test", fmt.Sprint(i%values), exp)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case i%7 == 0 && err != nil:
				badErrs++
			case err != nil:
				sessErrs++
			default:
				sessions++
			}
			if merr != nil {
				goodErrs++
				return
			}
			if ok {
				fresh[i%values]++
			}
		}()
	}
	wg.Wait()
	if goodErrs != 0 || sessErrs != 0 {
		t.Fatalf("%d replay marks and %d valid sessions failed", goodErrs, sessErrs)
	}
	if want := (values*tries + 6) / 7; badErrs != want {
		t.Errorf("%d of %d invalid sessions failed", badErrs, want)
	}
	for v, n := range fresh {
		if n != 1 {
			t.Errorf("value %d marked fresh %d times", v, n)
		}
	}
	for i := range values * tries {
		if i%7 == 0 {
			continue
		}
		if _, err := s.GetSession(ctx, fmt.Sprintf("session-%d", i)); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
	}
}

// Every login writes a session and replay marks, and every index on them
// is a B-tree more in each transaction. These are the indexes the store's
// queries use, and no others.
func TestLoginTablesIndexes(t *testing.T) {
	dsn := freshSchema(t)
	s := openDSN(t, dsn)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	for table, want := range map[string][]string{
		"sessions": {"sessions_idle_expires_at", "sessions_pkey"},
		"replay":   {"replay_expires_at", "replay_pkey"},
	} {
		rows, err := conn.Query(t.Context(), "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1 ORDER BY indexname", table)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("indexes on %s: %v, want %v", table, got, want)
		}
	}
}
