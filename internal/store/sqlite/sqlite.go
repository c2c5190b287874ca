// Package sqlite is the embedded implementation of store.Store on
// modernc.org/sqlite (pure Go): the default of `mpassid dev` and of small
// single-node installations.
//
// The database runs in WAL mode. Writes go through one dedicated connection
// (begun IMMEDIATE, with a busy timeout for other processes), so writers from
// many goroutines queue in Go instead of failing with SQLITE_BUSY; reads use a
// separate pool of query-only connections that WAL lets run alongside the
// writer. Times are stored as Unix microseconds in UTC.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
	"github.com/mpassid/mpassid/internal/store/internal/storeutil"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// busyTimeout is how long a connection waits for another process's write
// lock before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Store is the SQLite store. It is safe for concurrent use.
type Store struct {
	w *sql.DB // the single writer connection
	r *sql.DB // query-only readers (w itself for in-memory databases)

	migrations *goose.Provider
	migrateMu  sync.Mutex

	// path is the database file ("" in memory), beside which TryLock's
	// lock files are.
	path    string
	locksMu sync.Mutex
	locks   map[string]struct{}

	stmts stmtCache
	batch *batcher // the login path's writes, committed together
	// mirror answers Marked from memory.
	mirror *marksMirror
	// commits counts the writer connection's commits (WriteTransactions).
	commits *atomic.Int64
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path. ":memory:" opens
// a private in-memory database on a single connection. Call Migrate before
// use.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: open sqlite: empty path")
	}
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("store: open sqlite %q: the path must not contain '?'", path)
	}
	memory := path == ":memory:"
	params := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busyTimeout.Milliseconds())
	writerParams := params + "&_txlock=immediate"
	if !memory {
		// FULL: a commit is on disk before it returns (the WAL is synced
		// every commit), so an administrator's saved change, a session or
		// a replay mark survives a power cut, not only a crash of the
		// process as with NORMAL. Logins' writes share commits under load,
		// so this costs little there (about 6 % of a login's CPU in
		// alternating runs, docs/performance.md).
		//
		// A checkpoint every 10,000 pages (40 MB of log) rather than
		// SQLite's 1,000: the pages logins write again and again (the
		// ends of the sessions table and of the expiry indexes) are copied
		// into the database once per checkpoint, not ten times. Logins'
		// writes: 75-86 → 65-70 µs each (BenchmarkStore/LoginWrites,
		// 100,000 logins, alternating), most of it fewer syncs; recovery
		// after a crash reads at most that much log.
		writerParams += "&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=wal_autocheckpoint(10000)"
	}
	commits := new(atomic.Int64)
	w := sql.OpenDB(newCountingConnector(path+"?"+writerParams, commits))
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, r: w, locks: make(map[string]struct{}), commits: commits}
	if !memory {
		s.path = path
	}
	s.mirror = newMarksMirror(markMirrorMaxAge, s.liveMarks)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	if !memory {
		r, err := sql.Open("sqlite", path+"?"+params+"&_pragma=query_only(1)")
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("store: open sqlite %s readers: %w", path, err)
		}
		n := max(4, runtime.GOMAXPROCS(0))
		r.SetMaxOpenConns(n)
		r.SetMaxIdleConns(n)
		r.SetConnMaxIdleTime(5 * time.Minute)
		if err := r.PingContext(ctx); err != nil {
			r.Close()
			w.Close()
			return nil, fmt.Errorf("store: open sqlite %s readers: %w", path, err)
		}
		s.r = r
	}
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("store: sqlite migrations: %w", err)
	}
	s.migrations, err = goose.NewProvider(goose.DialectSQLite3, w, sub,
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(slog.New(slog.DiscardHandler)),
	)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("store: sqlite migrations: %w", err)
	}
	s.batch = newBatcher(w, &s.stmts)
	return s, nil
}

// Dialect is "sqlite".
func (s *Store) Dialect() string { return "sqlite" }

// Close closes the database.
func (s *Store) Close() error {
	if s.batch != nil {
		s.batch.Close()
	}
	s.stmts.close()
	var err error
	if s.r != s.w {
		err = s.r.Close()
	}
	if e := s.w.Close(); e != nil && err == nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Migrate applies the embedded migrations. Within a process calls are
// serialised; the migrations themselves are idempotent, so that another
// process migrating the same file at once does no harm.
func (s *Store) Migrate(ctx context.Context) error {
	s.migrateMu.Lock()
	defer s.migrateMu.Unlock()
	if _, err := s.migrations.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// MigrationsCurrent reports whether every embedded migration is applied.
func (s *Store) MigrationsCurrent(ctx context.Context) (bool, error) {
	pending, err := s.migrations.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("store: migration status: %w", err)
	}
	return !pending, nil
}

// TryLock takes a named lock that holds across processes: a one-shot
// `mpassid orgsync` or `mpassid keys rotate` and a serving instance on the
// same database file do not run the same singleton at once. It is a flock(2)
// on a file beside the database (lockFilePath), which the kernel releases
// when the holder dies; in memory, and on systems without flock, it holds
// within this process only.
func (s *Store) TryLock(ctx context.Context, name string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	s.locksMu.Lock()
	defer s.locksMu.Unlock()
	if _, held := s.locks[name]; held {
		return nil, fmt.Errorf("store: lock %s: %w", name, store.ErrLocked)
	}
	unlockFile := func() {}
	if s.path != "" {
		var err error
		unlockFile, err = lockFile(lockFilePath(s.path, name))
		if errors.Is(err, errLockHeld) {
			return nil, fmt.Errorf("store: lock %s: %w: %w", name, store.ErrLocked, err)
		}
		if err != nil {
			return nil, fmt.Errorf("store: lock %s: %w", name, err)
		}
	}
	s.locks[name] = struct{}{}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.locksMu.Lock()
			unlockFile()
			delete(s.locks, name)
			s.locksMu.Unlock()
		})
	}, nil
}

// --- helpers ---

func us(t time.Time) int64 { return t.UnixMicro() }

func tm(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullUs(t *time.Time) any {
	if t == nil {
		return nil
	}
	return us(*t)
}

func nullTm(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := tm(v.Int64)
	return &t
}

// inTx runs fn in a write transaction.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func bumpConfig(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `UPDATE config_version SET version = version + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("bump config version: %w", err)
	}
	return nil
}

// uniqueViolation reports whether err is a UNIQUE or PRIMARY KEY violation
// and on which table.column.
func uniqueViolation(err error) (column string, ok bool) {
	if err == nil {
		return "", false
	}
	msg := err.Error()
	const p = "UNIQUE constraint failed: "
	i := strings.Index(msg, p)
	if i < 0 {
		return "", false
	}
	col := msg[i+len(p):]
	if j := strings.IndexAny(col, " ,("); j >= 0 {
		col = col[:j]
	}
	return col, true
}

// --- integrations ---

const integrationCols = `role, type, organisation_oid, deployment_phase, status, name, entity_id, client_id, search, version, created_at, updated_at, document`

func integrationDuplicate(err error, row *storeutil.IntegrationRow) error {
	col, ok := uniqueViolation(err)
	if !ok {
		return err
	}
	switch col {
	case "integrations.entity_id":
		return &store.DuplicateError{Field: "entityId", Value: row.EntityID}
	case "integrations.client_id":
		return &store.DuplicateError{Field: "client_id", Value: row.ClientID}
	case "integrations.id":
		return &store.DuplicateError{Field: "id", Value: fmt.Sprint(row.ID)}
	}
	return err
}

func insertRevision(ctx context.Context, tx *sql.Tx, row *storeutil.IntegrationRow, actor string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO integration_revisions (integration_id, version, actor, created_at, document) VALUES (?, ?, ?, ?, ?)`,
		row.ID, row.Version, actor, us(row.UpdatedAt), string(row.Document))
	if err != nil {
		return fmt.Errorf("insert revision: %w", err)
	}
	return nil
}

// CreateIntegration stores a new integration at version 1.
func (s *Store) CreateIntegration(ctx context.Context, in *model.Integration, actor string) (*model.Integration, error) {
	if in == nil {
		return nil, errors.New("store: create integration: nil integration")
	}
	now := storeutil.Now()
	var row *storeutil.IntegrationRow
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := bumpConfig(ctx, tx); err != nil {
			return err
		}
		id := in.ID
		if id == 0 {
			rng, err := model.IntegrationIDRange(in.Role, in.DeploymentPhase)
			if err != nil {
				return err
			}
			var maxID sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT MAX(id) FROM integrations WHERE id BETWEEN ? AND ?`, rng.Min, rng.Max).Scan(&maxID); err != nil {
				return fmt.Errorf("allocate id: %w", err)
			}
			if id, err = storeutil.NextID(rng, maxID.Int64, maxID.Valid); err != nil {
				return err
			}
		}
		var err error
		if row, err = storeutil.NewIntegrationRow(in, id, 1, now, now, actor); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO integrations (id, `+integrationCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			row.ID, row.Role, row.Type, row.OrganisationOID, row.DeploymentPhase, row.Status, row.Name, row.EntityID, row.ClientID,
			row.Search, row.Version, us(row.CreatedAt), us(row.UpdatedAt), string(row.Document))
		if err != nil {
			return integrationDuplicate(err, row)
		}
		return insertRevision(ctx, tx, row, actor)
	})
	if err != nil {
		return nil, fmt.Errorf("store: create integration: %w", err)
	}
	return row.Integration, nil
}

// UpdateIntegration saves in if in.Version is current.
func (s *Store) UpdateIntegration(ctx context.Context, in *model.Integration, actor string) (*model.Integration, error) {
	if in == nil {
		return nil, errors.New("store: update integration: nil integration")
	}
	now := storeutil.Now()
	var row *storeutil.IntegrationRow
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := bumpConfig(ctx, tx); err != nil {
			return err
		}
		var version, created int64
		err := tx.QueryRowContext(ctx, `SELECT version, created_at FROM integrations WHERE id = ?`, in.ID).Scan(&version, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if version != in.Version {
			return fmt.Errorf("version %d is not current (%d): %w", in.Version, version, store.ErrConflict)
		}
		if row, err = storeutil.NewIntegrationRow(in, in.ID, version+1, tm(created), now, actor); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE integrations SET role = ?, type = ?, organisation_oid = ?, deployment_phase = ?, status = ?,
			name = ?, entity_id = ?, client_id = ?, search = ?, version = ?, updated_at = ?, document = ?
			WHERE id = ? AND version = ?`,
			row.Role, row.Type, row.OrganisationOID, row.DeploymentPhase, row.Status, row.Name, row.EntityID, row.ClientID,
			row.Search, row.Version, us(row.UpdatedAt), string(row.Document), in.ID, version)
		if err != nil {
			return integrationDuplicate(err, row)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrConflict
		}
		return insertRevision(ctx, tx, row, actor)
	})
	if err != nil {
		return nil, fmt.Errorf("store: update integration %d: %w", in.ID, err)
	}
	return row.Integration, nil
}

func (s *Store) getIntegration(ctx context.Context, what, query string, arg any) (*model.Integration, error) {
	var doc string
	err := s.r.QueryRowContext(ctx, query, arg).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: get integration %s %v: %w", what, arg, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get integration %s %v: %w", what, arg, err)
	}
	in, err := storeutil.DecodeIntegration([]byte(doc))
	if err != nil {
		return nil, fmt.Errorf("store: get integration %s %v: %w", what, arg, err)
	}
	return in, nil
}

// GetIntegration returns the integration with id.
func (s *Store) GetIntegration(ctx context.Context, id int64) (*model.Integration, error) {
	return s.getIntegration(ctx, "id", `SELECT document FROM integrations WHERE id = ?`, id)
}

// FindByEntityID finds the active SAML service with entityID.
func (s *Store) FindByEntityID(ctx context.Context, entityID string) (*model.Integration, error) {
	if entityID == "" {
		return nil, fmt.Errorf("store: get integration by empty entityID: %w", store.ErrNotFound)
	}
	return s.getIntegration(ctx, "entityID", `SELECT document FROM integrations WHERE entity_id = ? AND status = 'active'`, entityID)
}

// FindByClientID finds the active OIDC service with clientID.
func (s *Store) FindByClientID(ctx context.Context, clientID string) (*model.Integration, error) {
	if clientID == "" {
		return nil, fmt.Errorf("store: get integration by empty client_id: %w", store.ErrNotFound)
	}
	return s.getIntegration(ctx, "client_id", `SELECT document FROM integrations WHERE client_id = ? AND status = 'active'`, clientID)
}

// ListIntegrations returns one page of the matching integrations and the
// total number that match.
func (s *Store) ListIntegrations(ctx context.Context, f store.IntegrationFilter) ([]*model.Integration, int, error) {
	order, err := storeutil.OrderBy(f.Sort)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list integrations: %w", err)
	}
	where, args, none := storeutil.Where(f, func(int) string { return "?" })
	if none {
		return []*model.Integration{}, 0, nil
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, fmt.Errorf("store: list integrations: %w", err)
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM integrations WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: list integrations: count: %w", err)
	}
	limit := int64(-1)
	if f.Limit > 0 {
		limit = int64(f.Limit)
	}
	args = append(args, limit, int64(max(f.Offset, 0)))
	rows, err := tx.QueryContext(ctx, `SELECT document FROM integrations WHERE `+where+` ORDER BY `+order+` LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list integrations: %w", err)
	}
	defer rows.Close()
	out := []*model.Integration{}
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, 0, fmt.Errorf("store: list integrations: %w", err)
		}
		in, err := storeutil.DecodeIntegration([]byte(doc))
		if err != nil {
			return nil, 0, fmt.Errorf("store: list integrations: %w", err)
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: list integrations: %w", err)
	}
	return out, total, nil
}

func scanRevision(id int64, sc interface{ Scan(...any) error }) (store.Revision, error) {
	var (
		rev     store.Revision
		created int64
		doc     string
	)
	if err := sc.Scan(&rev.Version, &rev.Actor, &created, &doc); err != nil {
		return rev, err
	}
	rev.IntegrationID = id
	rev.CreatedAt = tm(created)
	in, err := storeutil.DecodeIntegration([]byte(doc))
	if err != nil {
		return rev, err
	}
	rev.Integration = in
	return rev, nil
}

// Revisions lists the saved versions of an integration, newest first;
// ErrNotFound if there is no such integration.
func (s *Store) Revisions(ctx context.Context, id int64) ([]store.Revision, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT version, actor, created_at, document FROM integration_revisions WHERE integration_id = ? ORDER BY version DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("store: revisions of %d: %w", id, err)
	}
	defer rows.Close()
	var out []store.Revision
	for rows.Next() {
		rev, err := scanRevision(id, rows)
		if err != nil {
			return nil, fmt.Errorf("store: revisions of %d: %w", id, err)
		}
		out = append(out, rev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: revisions of %d: %w", id, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("store: revisions of %d: %w", id, store.ErrNotFound)
	}
	return out, nil
}

// GetRevision returns one saved version of an integration.
func (s *Store) GetRevision(ctx context.Context, id, version int64) (*store.Revision, error) {
	row := s.r.QueryRowContext(ctx, `SELECT version, actor, created_at, document FROM integration_revisions WHERE integration_id = ? AND version = ?`, id, version)
	rev, err := scanRevision(id, row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: revision %d of %d: %w", version, id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: revision %d of %d: %w", version, id, err)
	}
	return &rev, nil
}

// ConfigVersion returns the configuration counter.
func (s *Store) ConfigVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.r.QueryRowContext(ctx, `SELECT version FROM config_version WHERE id = 1`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: config version: %w", err)
	}
	return v, nil
}

// --- organisations ---

// ReplaceOrganisations makes orgs the whole registry in one transaction.
func (s *Store) ReplaceOrganisations(ctx context.Context, orgs []model.Organisation) (store.SyncCounts, error) {
	docs, err := storeutil.PrepareOrganisations(orgs)
	if err != nil {
		return store.SyncCounts{}, fmt.Errorf("store: replace organisations: %w", err)
	}
	counts := store.SyncCounts{Total: len(docs)}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		existing := make(map[string]string)
		rows, err := tx.QueryContext(ctx, `SELECT oid, document FROM organisations`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var oid, doc string
			if err := rows.Scan(&oid, &doc); err != nil {
				rows.Close()
				return err
			}
			existing[oid] = doc
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO organisations (oid, parent_oid, document) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		upd, err := tx.PrepareContext(ctx, `UPDATE organisations SET parent_oid = ?, document = ? WHERE oid = ?`)
		if err != nil {
			return err
		}
		defer upd.Close()
		for _, d := range docs {
			old, ok := existing[d.OID]
			switch {
			case !ok:
				if _, err := ins.ExecContext(ctx, d.OID, d.ParentOID, string(d.Document)); err != nil {
					return fmt.Errorf("insert %s: %w", d.OID, err)
				}
				counts.Added++
			case old != string(d.Document):
				if _, err := upd.ExecContext(ctx, d.ParentOID, string(d.Document), d.OID); err != nil {
					return fmt.Errorf("update %s: %w", d.OID, err)
				}
				counts.Changed++
			}
			delete(existing, d.OID)
		}
		if len(existing) > 0 {
			del, err := tx.PrepareContext(ctx, `DELETE FROM organisations WHERE oid = ?`)
			if err != nil {
				return err
			}
			defer del.Close()
			for oid := range existing {
				if _, err := del.ExecContext(ctx, oid); err != nil {
					return fmt.Errorf("delete %s: %w", oid, err)
				}
				counts.Removed++
			}
		}
		if counts.Added+counts.Changed+counts.Removed > 0 {
			return bumpConfig(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return store.SyncCounts{}, fmt.Errorf("store: replace organisations: %w", err)
	}
	return counts, nil
}

// ListOrganisations returns the registry ordered by OID.
func (s *Store) ListOrganisations(ctx context.Context) ([]model.Organisation, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT document FROM organisations ORDER BY oid`)
	if err != nil {
		return nil, fmt.Errorf("store: list organisations: %w", err)
	}
	defer rows.Close()
	out := []model.Organisation{}
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("store: list organisations: %w", err)
		}
		o, err := storeutil.DecodeOrganisation(doc)
		if err != nil {
			return nil, fmt.Errorf("store: list organisations: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list organisations: %w", err)
	}
	return out, nil
}

// GetOrganisation returns the organisation with oid.
func (s *Store) GetOrganisation(ctx context.Context, oid string) (*model.Organisation, error) {
	var doc []byte
	err := s.r.QueryRowContext(ctx, `SELECT document FROM organisations WHERE oid = ?`, oid).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: get organisation %s: %w", oid, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get organisation %s: %w", oid, err)
	}
	o, err := storeutil.DecodeOrganisation(doc)
	if err != nil {
		return nil, fmt.Errorf("store: get organisation %s: %w", oid, err)
	}
	return &o, nil
}

// CountOrganisations returns the size of the registry.
func (s *Store) CountOrganisations(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM organisations`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count organisations: %w", err)
	}
	return n, nil
}

// RecordSyncRun inserts (ID 0) or updates a sync run and returns its id.
func (s *Store) RecordSyncRun(ctx context.Context, run model.SyncRun) (int64, error) {
	if run.ID == 0 {
		var id int64
		err := s.w.QueryRowContext(ctx, `INSERT INTO sync_runs (started_at, finished_at, outcome, added, changed, removed, total, error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			us(run.StartedAt), nullUs(run.FinishedAt), run.Outcome, run.Added, run.Changed, run.Removed, run.Total, run.Error).Scan(&id)
		if err != nil {
			return 0, fmt.Errorf("store: record sync run: %w", err)
		}
		return id, nil
	}
	res, err := s.w.ExecContext(ctx, `UPDATE sync_runs SET started_at = ?, finished_at = ?, outcome = ?, added = ?, changed = ?, removed = ?, total = ?, error = ?
		WHERE id = ?`,
		us(run.StartedAt), nullUs(run.FinishedAt), run.Outcome, run.Added, run.Changed, run.Removed, run.Total, run.Error, run.ID)
	if err != nil {
		return 0, fmt.Errorf("store: record sync run %d: %w", run.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, fmt.Errorf("store: record sync run %d: %w", run.ID, err)
	} else if n == 0 {
		return 0, fmt.Errorf("store: record sync run %d: %w", run.ID, store.ErrNotFound)
	}
	return run.ID, nil
}

// SyncRuns lists the latest runs, newest first; limit <= 0 lists all.
func (s *Store) SyncRuns(ctx context.Context, limit int) ([]model.SyncRun, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, started_at, finished_at, outcome, added, changed, removed, total, error
		FROM sync_runs ORDER BY started_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: sync runs: %w", err)
	}
	defer rows.Close()
	out := []model.SyncRun{}
	for rows.Next() {
		var (
			r        model.SyncRun
			started  int64
			finished sql.NullInt64
		)
		if err := rows.Scan(&r.ID, &started, &finished, &r.Outcome, &r.Added, &r.Changed, &r.Removed, &r.Total, &r.Error); err != nil {
			return nil, fmt.Errorf("store: sync runs: %w", err)
		}
		r.StartedAt = tm(started)
		r.FinishedAt = nullTm(finished)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sync runs: %w", err)
	}
	return out, nil
}
