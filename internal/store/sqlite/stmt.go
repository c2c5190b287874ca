package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements per database handle and query text.
// SQLite compiles a statement's SQL on every unprepared call, which on the
// login path cost about as much as the writes themselves.
type stmtCache struct {
	m sync.Map // stmtKey -> *sql.Stmt
}

type stmtKey struct {
	db    *sql.DB
	query string
}

// get returns the prepared statement of query on db, preparing it once.
// database/sql re-prepares it on other connections of db as needed.
func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	k := stmtKey{db, query}
	if st, ok := c.m.Load(k); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := c.m.LoadOrStore(k, st); loaded {
		_ = st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

func (c *stmtCache) close() {
	c.m.Range(func(k, v any) bool {
		_ = v.(*sql.Stmt).Close()
		c.m.Delete(k)
		return true
	})
}

func (s *Store) execW(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := s.stmts.get(ctx, s.w, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (s *Store) queryRowW(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := s.stmts.get(ctx, s.w, query)
	if err != nil {
		// The unprepared call reports the same error through Row.Scan.
		return s.w.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// queryRowR runs a single-row lookup by key on a reader connection. Not
// cancellable: such a read takes microseconds and a WAL reader never waits
// for the writer (only an in-memory store, for tests, reads on the
// writer's one connection), while a cancellable context costs a watching
// goroutine in database/sql and another in the driver for every read, a
// tenth of a read's cost (BenchmarkStore/MarkedRead).
func (s *Store) queryRowR(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	st, err := s.stmts.get(ctx, s.r, query)
	if err != nil {
		return s.r.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

func (s *Store) queryR(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.stmts.get(ctx, s.r, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}
