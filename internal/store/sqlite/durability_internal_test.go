package sqlite

import (
	"testing"
)

// The writer commits durably: WAL, synced on every commit (synchronous
// FULL, 2), so a saved change survives a power cut; and checkpoints the
// log every 10,000 pages.
func TestWriterIsDurable(t *testing.T) {
	s := OpenTemp(t)
	var mode string
	var sync int
	if err := s.w.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := s.w.QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || sync != 2 {
		t.Errorf("journal_mode %q, synchronous %d; want wal and 2 (FULL)", mode, sync)
	}
	var checkpoint int
	if err := s.w.QueryRowContext(t.Context(), "PRAGMA wal_autocheckpoint").Scan(&checkpoint); err != nil {
		t.Fatal(err)
	}
	if checkpoint != 10000 {
		t.Errorf("wal_autocheckpoint %d, want 10000", checkpoint)
	}
}
