package sqlite

import (
	"path/filepath"
	"testing"
)

// OpenTemp opens a migrated store in a fresh temporary directory of tb,
// closed when tb ends: the store the other packages' tests run on.
func OpenTemp(tb testing.TB) *Store {
	tb.Helper()
	return OpenTestAt(tb, filepath.Join(tb.TempDir(), "mpassid.db"))
}

// OpenTestAt opens a migrated store on the file at path, closed when tb
// ends: for tests that open one file twice, as two processes would.
func OpenTestAt(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(tb.Context(), path)
	if err != nil {
		tb.Fatalf("open a SQLite store: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	if err := s.Migrate(tb.Context()); err != nil {
		tb.Fatalf("migrate the SQLite store: %v", err)
	}
	return s
}
