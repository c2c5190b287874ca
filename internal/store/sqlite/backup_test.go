package sqlite_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/store/sqlite"
)

// A backup taken while logins keep writing holds everything committed before
// it, is a sound database on its own, and leaves nothing else behind.
func TestBackupWhileWriting(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "mpassid.db")
	s := sqlite.OpenTestAt(t, path)
	until := time.Now().Add(time.Hour)
	for i := range 200 {
		if _, err := s.MarkUsed(ctx, "before", fmt.Sprint(i), until); err != nil {
			t.Fatal(err)
		}
	}

	// Logins go on writing during the backup.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.MarkUsed(ctx, "during", fmt.Sprint(i), until); err != nil {
				t.Error(err)
				return
			}
		}
	})
	backup := filepath.Join(dir, "backup.db")
	err := sqlite.Backup(ctx, path, backup)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("sqlite", backup)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check of the backup = %q, %v", check, err)
	}
	var before int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM replay WHERE ns = 'before'`).Scan(&before); err != nil || before != 200 {
		t.Errorf("the backup holds %d of the 200 marks made before it (%v)", before, err)
	}

	// The backup opens as a store whose schema is current.
	restored, err := sqlite.Open(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if ok, err := restored.MigrationsCurrent(ctx); err != nil || !ok {
		t.Errorf("the backup's schema is not current: %v %v", ok, err)
	}
	if marked, err := restored.Marked(ctx, "before", "199"); err != nil || !marked {
		t.Errorf("a mark made before the backup is missing from it: %v %v", marked, err)
	}
	assertNoPartials(t, dir)
}

func TestBackupRefusals(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "mpassid.db")
	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	sqlite.OpenTestAt(t, path)

	for _, tc := range []struct {
		name, path, to, want string
	}{
		{"the target exists", path, existing, "never overwrites"},
		{"no such database", filepath.Join(dir, "missing.db"), filepath.Join(dir, "b1.db"), "the database"},
		{"in memory", ":memory:", filepath.Join(dir, "b2.db"), "not a database file"},
		{"target directory missing", path, filepath.Join(dir, "no", "such", "b3.db"), "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := sqlite.Backup(ctx, tc.path, tc.to)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Backup = %v, want an error with %q", err, tc.want)
			}
		})
	}
	if data, err := os.ReadFile(existing); err != nil || string(data) != "keep me" {
		t.Errorf("the existing file was touched: %q %v", data, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("a backup of a missing database created it")
	}
	for _, b := range []string{"b1.db", "b2.db"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err == nil {
			t.Errorf("a failed backup left %s", b)
		}
	}
	assertNoPartials(t, dir)
}

func assertNoPartials(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".partial-") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
