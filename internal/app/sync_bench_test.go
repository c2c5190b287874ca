package app

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/mpassid/mpassid/internal/config"
	"github.com/mpassid/mpassid/internal/registry"
	"github.com/mpassid/mpassid/internal/registry/fakeopas"
	"github.com/mpassid/mpassid/internal/store"
	"github.com/mpassid/mpassid/internal/store/sqlite"
)

// BenchmarkFullSyncNational measures one full registry sync of the national
// fake dataset (about 15,000 organisations) into a real SQLite store: fetch
// over HTTP, parse, diff, replace in one transaction, rebuild the lookup.
// Each iteration syncs into an empty store, so every organisation is added.
func BenchmarkFullSyncNational(b *testing.B) {
	ds := fakeopas.Generate(7, fakeopas.SizeNational)
	srv := fakeopas.NewServer(ds)
	defer srv.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := config.Default()
	cfg.Registry.BaseURL = srv.URL + "/"

	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "sync.db"))
		if err != nil {
			b.Fatal(err)
		}
		if err := st.Migrate(b.Context()); err != nil {
			b.Fatal(err)
		}
		reg := registry.NewRegistry(nil)
		syncer, err := NewSyncer(&cfg, store.Store(st), log, nil, func(l *registry.Lookup) { reg.Swap(l) })
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		run, err := syncer.Run(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if run.Added != ds.Len() || reg.Current().Len() != ds.Len() {
			b.Fatalf("synced %d of %d", run.Added, ds.Len())
		}
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(ds.Len()), "orgs")
}
