package sqlite_test

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/mpassid/mpassid/internal/store"
	"github.com/mpassid/mpassid/internal/store/sqlite"
	"github.com/mpassid/mpassid/internal/store/storetest"
)

func open(tb testing.TB) store.Store {
	tb.Helper()
	return sqlite.OpenTemp(tb)
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store { return open(b) })
}

func TestMemory(t *testing.T) {
	s, err := sqlite.Open(t.Context(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConfigVersion(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// Two stores on one file (two processes, in effect) may migrate at once.
func TestConcurrentMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mpassid.db")
	var stores []*sqlite.Store
	for range 2 {
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
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

func TestOpenFailure(t *testing.T) {
	if _, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "missing", "dir", "x.db")); err == nil {
		t.Error("Open of a path in a missing directory succeeded")
	}
}
