package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Backup writes a consistent copy of the database at path to the new file
// to, while other processes go on reading and writing it: the copy is one
// read transaction's view (VACUUM INTO), so it holds every commit made
// before it began and none of the later ones, and, unlike a copy of the file,
// it never catches a page half-written or misses what is still in the
// write-ahead log. The copy is compacted and needs no -wal file beside it.
//
// The copy is written under a temporary name in to's directory, synced, and
// only then linked to to, so a failure never leaves a partial backup under
// to's name; an existing file at to is never overwritten.
func Backup(ctx context.Context, path, to string) (err error) {
	if path == "" || path == ":memory:" || strings.ContainsRune(path, '?') {
		return fmt.Errorf("store: backup: %q is not a database file", path)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("store: backup: the database: %w", err)
	}
	if _, err := os.Lstat(to); err == nil {
		return fmt.Errorf("store: backup: %s exists; a backup never overwrites a file", to)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: backup: %w", err)
	}

	tmp, err := os.CreateTemp(filepath.Dir(to), "."+filepath.Base(to)+".partial-*")
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer func() {
		// Gone after the link, or a partial copy: either way not wanted.
		os.Remove(tmpName)
	}()

	// A connection of its own, not the store's writer or readers: the copy
	// of a large database takes a while and must not hold up logins.
	db, err := sql.Open("sqlite", path+"?"+fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()))
	if err != nil {
		return fmt.Errorf("store: backup: open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// VACUUM INTO writes into an empty file, as CreateTemp left it.
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmpName); err != nil {
		return fmt.Errorf("store: backup of %s: %w", path, err)
	}
	if err := syncFile(tmpName); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := os.Link(tmpName, to); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := syncFile(filepath.Dir(to)); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// syncFile flushes a file, or a directory's entries, to disk.
func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", name, err)
	}
	return nil
}
