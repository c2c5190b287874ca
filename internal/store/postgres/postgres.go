// Package postgres is the production implementation of store.Store on
// PostgreSQL through pgx/v5.
//
// Open takes a pgx connection string (URL or key=value). Besides pgx's own
// settings (pool_max_conns and the like), any other parameter is sent to the
// server as a run-time parameter; in particular search_path=<schema> puts the
// store's tables in that schema, which the tests use to isolate themselves
// and which also lets one database hold several installations. Advisory-lock
// keys are scoped by the schema, so that installations do not block each
// other.
package postgres

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
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
	"github.com/mpassid/mpassid/internal/store/internal/storeutil"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

const (
	// defaultConnectTimeout bounds one connection attempt when the DSN does
	// not set connect_timeout, so that Open fails fast and the caller can
	// retry with backoff.
	defaultConnectTimeout = 5 * time.Second
	// openTimeout bounds Open when ctx has no deadline.
	openTimeout = 15 * time.Second
	// migrateLockName is the advisory lock that serialises migrations.
	migrateLockName = "mpassid:migrate"
)

// Store is the PostgreSQL store. It is safe for concurrent use.
type Store struct {
	pool       *pgxpool.Pool
	batch      *batcher // the login path's writes, committed together
	db         *sql.DB  // database/sql view of pool, for goose
	migrations *goose.Provider
	// schema scopes advisory-lock keys.
	schema string
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at dsn and checks that it answers. It tries
// once: an unreachable server is a (wrapped) error after at most
// connect_timeout (default 5s), for the caller to retry. Call Migrate before
// use.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included; keep it out.
		return nil, errors.New("store: open postgres: invalid connection string")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = int32(max(10, 4*runtime.GOMAXPROCS(0)))
	}
	pool, err := pgxpool.NewWithConfig(context.WithoutCancel(ctx), cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, openTimeout)
		defer cancel()
	}
	s := &Store{pool: pool}
	if err := pool.QueryRow(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&s.schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: open postgres %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	s.db = stdlib.OpenDBFromPool(pool)
	s.batch = newBatcher(pool)
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("store: postgres migrations: %w", err)
	}
	s.migrations, err = goose.NewProvider(goose.DialectPostgres, s.db, sub,
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(slog.New(slog.DiscardHandler)),
	)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("store: postgres migrations: %w", err)
	}
	return s, nil
}

// Dialect is "postgres".
func (s *Store) Dialect() string { return "postgres" }

// Close closes every connection.
func (s *Store) Close() error {
	var err error
	if s.batch != nil {
		s.batch.Close()
	}
	if s.db != nil {
		err = s.db.Close()
	}
	s.pool.Close()
	if err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Migrate applies the embedded migrations under an advisory lock, so that
// instances starting at once migrate one after the other.
func (s *Store) Migrate(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Release()
	key := storeutil.LockKey(s.schema, migrateLockName)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return fmt.Errorf("store: migrate: take lock: %w", err)
	}
	defer unlock(conn, key)
	if _, err := s.migrations.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// unlock releases an advisory lock; if it cannot, it closes the connection,
// which releases it too.
func unlock(conn *pgxpool.Conn, key int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
		conn.Conn().Close(ctx)
	}
}

// MigrationsCurrent reports whether every embedded migration is applied.
func (s *Store) MigrationsCurrent(ctx context.Context) (bool, error) {
	pending, err := s.migrations.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("store: migration status: %w", err)
	}
	return !pending, nil
}

// TryLock takes a session advisory lock on a connection of its own, held
// until release.
func (s *Store) TryLock(ctx context.Context, name string) (func(), error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	key := storeutil.LockKey(s.schema, name)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		conn.Release()
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	if !ok {
		conn.Release()
		return nil, fmt.Errorf("store: lock %s: %w", name, store.ErrLocked)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			unlock(conn, key)
			conn.Release()
		})
	}, nil
}

// --- helpers ---

func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func bumpConfig(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `UPDATE config_version SET version = version + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("bump config version: %w", err)
	}
	return nil
}

// uniqueViolation returns the constraint of a unique violation.
func uniqueViolation(err error) (constraint string, ok bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return pe.ConstraintName, true
	}
	return "", false
}

// --- integrations ---

func integrationDuplicate(err error, row *storeutil.IntegrationRow) error {
	c, ok := uniqueViolation(err)
	if !ok {
		return err
	}
	switch c {
	case "integrations_entity_id_active":
		return &store.DuplicateError{Field: "entityId", Value: row.EntityID}
	case "integrations_client_id_active":
		return &store.DuplicateError{Field: "client_id", Value: row.ClientID}
	case "integrations_pkey":
		return &store.DuplicateError{Field: "id", Value: fmt.Sprint(row.ID)}
	}
	return err
}

func insertRevision(ctx context.Context, tx pgx.Tx, row *storeutil.IntegrationRow, actor string) error {
	_, err := tx.Exec(ctx, `INSERT INTO integration_revisions (integration_id, version, actor, created_at, document) VALUES ($1, $2, $3, $4, $5)`,
		row.ID, row.Version, actor, row.UpdatedAt, row.Document)
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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The counter's row lock serialises configuration writers, which
		// makes the id allocation below race-free.
		if err := bumpConfig(ctx, tx); err != nil {
			return err
		}
		id := in.ID
		if id == 0 {
			rng, err := model.IntegrationIDRange(in.Role, in.DeploymentPhase)
			if err != nil {
				return err
			}
			var maxID *int64
			if err := tx.QueryRow(ctx, `SELECT MAX(id) FROM integrations WHERE id BETWEEN $1 AND $2`, rng.Min, rng.Max).Scan(&maxID); err != nil {
				return fmt.Errorf("allocate id: %w", err)
			}
			var m int64
			if maxID != nil {
				m = *maxID
			}
			if id, err = storeutil.NextID(rng, m, maxID != nil); err != nil {
				return err
			}
		}
		var err error
		if row, err = storeutil.NewIntegrationRow(in, id, 1, now, now, actor); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO integrations (id, role, type, organisation_oid, deployment_phase, status, name, entity_id, client_id,
			search, version, created_at, updated_at, document) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			row.ID, row.Role, row.Type, row.OrganisationOID, row.DeploymentPhase, row.Status, row.Name, row.EntityID, row.ClientID,
			row.Search, row.Version, row.CreatedAt, row.UpdatedAt, row.Document)
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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := bumpConfig(ctx, tx); err != nil {
			return err
		}
		var (
			version int64
			created time.Time
		)
		err := tx.QueryRow(ctx, `SELECT version, created_at FROM integrations WHERE id = $1 FOR UPDATE`, in.ID).Scan(&version, &created)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if version != in.Version {
			return fmt.Errorf("version %d is not current (%d): %w", in.Version, version, store.ErrConflict)
		}
		if row, err = storeutil.NewIntegrationRow(in, in.ID, version+1, created, now, actor); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE integrations SET role = $1, type = $2, organisation_oid = $3, deployment_phase = $4, status = $5,
			name = $6, entity_id = $7, client_id = $8, search = $9, version = $10, updated_at = $11, document = $12
			WHERE id = $13 AND version = $14`,
			row.Role, row.Type, row.OrganisationOID, row.DeploymentPhase, row.Status, row.Name, row.EntityID, row.ClientID,
			row.Search, row.Version, row.UpdatedAt, row.Document, in.ID, version)
		if err != nil {
			return integrationDuplicate(err, row)
		}
		if tag.RowsAffected() == 0 {
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
	var doc []byte
	err := s.pool.QueryRow(ctx, query, arg).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("store: get integration %s %v: %w", what, arg, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get integration %s %v: %w", what, arg, err)
	}
	in, err := storeutil.DecodeIntegration(doc)
	if err != nil {
		return nil, fmt.Errorf("store: get integration %s %v: %w", what, arg, err)
	}
	return in, nil
}

// GetIntegration returns the integration with id.
func (s *Store) GetIntegration(ctx context.Context, id int64) (*model.Integration, error) {
	return s.getIntegration(ctx, "id", `SELECT document FROM integrations WHERE id = $1`, id)
}

// FindByEntityID finds the active SAML service with entityID.
func (s *Store) FindByEntityID(ctx context.Context, entityID string) (*model.Integration, error) {
	if entityID == "" {
		return nil, fmt.Errorf("store: get integration by empty entityID: %w", store.ErrNotFound)
	}
	return s.getIntegration(ctx, "entityID", `SELECT document FROM integrations WHERE entity_id = $1 AND status = 'active'`, entityID)
}

// FindByClientID finds the active OIDC service with clientID.
func (s *Store) FindByClientID(ctx context.Context, clientID string) (*model.Integration, error) {
	if clientID == "" {
		return nil, fmt.Errorf("store: get integration by empty client_id: %w", store.ErrNotFound)
	}
	return s.getIntegration(ctx, "client_id", `SELECT document FROM integrations WHERE client_id = $1 AND status = 'active'`, clientID)
}

// ListIntegrations returns one page of the matching integrations and the
// total number that match.
func (s *Store) ListIntegrations(ctx context.Context, f store.IntegrationFilter) ([]*model.Integration, int, error) {
	order, err := storeutil.OrderBy(f.Sort)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list integrations: %w", err)
	}
	where, args, none := storeutil.Where(f, func(n int) string { return fmt.Sprintf("$%d", n) })
	if none {
		return []*model.Integration{}, 0, nil
	}
	var (
		out   = []*model.Integration{}
		total int
	)
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM integrations WHERE `+where, args...).Scan(&total); err != nil {
			return fmt.Errorf("count: %w", err)
		}
		var limit *int64
		if f.Limit > 0 {
			l := int64(f.Limit)
			limit = &l
		}
		n := len(args)
		args = append(args, limit, int64(max(f.Offset, 0)))
		rows, err := tx.Query(ctx, fmt.Sprintf(`SELECT document FROM integrations WHERE %s ORDER BY %s LIMIT $%d OFFSET $%d`, where, order, n+1, n+2), args...)
		if err != nil {
			return err
		}
		docs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			return err
		}
		for _, doc := range docs {
			in, err := storeutil.DecodeIntegration(doc)
			if err != nil {
				return err
			}
			out = append(out, in)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: list integrations: %w", err)
	}
	return out, total, nil
}

func scanRevision(id int64, row pgx.Row) (store.Revision, error) {
	var (
		rev store.Revision
		doc []byte
	)
	if err := row.Scan(&rev.Version, &rev.Actor, &rev.CreatedAt, &doc); err != nil {
		return rev, err
	}
	rev.IntegrationID = id
	rev.CreatedAt = rev.CreatedAt.UTC()
	in, err := storeutil.DecodeIntegration(doc)
	if err != nil {
		return rev, err
	}
	rev.Integration = in
	return rev, nil
}

// Revisions lists the saved versions of an integration, newest first;
// ErrNotFound if there is no such integration.
func (s *Store) Revisions(ctx context.Context, id int64) ([]store.Revision, error) {
	rows, err := s.pool.Query(ctx, `SELECT version, actor, created_at, document FROM integration_revisions WHERE integration_id = $1 ORDER BY version DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("store: revisions of %d: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Revision, error) { return scanRevision(id, r) })
	if err != nil {
		return nil, fmt.Errorf("store: revisions of %d: %w", id, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("store: revisions of %d: %w", id, store.ErrNotFound)
	}
	return out, nil
}

// GetRevision returns one saved version of an integration.
func (s *Store) GetRevision(ctx context.Context, id, version int64) (*store.Revision, error) {
	rev, err := scanRevision(id, s.pool.QueryRow(ctx, `SELECT version, actor, created_at, document FROM integration_revisions
		WHERE integration_id = $1 AND version = $2`, id, version))
	if errors.Is(err, pgx.ErrNoRows) {
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
	if err := s.pool.QueryRow(ctx, `SELECT version FROM config_version WHERE id = 1`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: config version: %w", err)
	}
	return v, nil
}

// --- organisations ---

// ReplaceOrganisations makes orgs the whole registry in one transaction: it
// copies them into a temporary table and applies the difference.
func (s *Store) ReplaceOrganisations(ctx context.Context, orgs []model.Organisation) (store.SyncCounts, error) {
	docs, err := storeutil.PrepareOrganisations(orgs)
	if err != nil {
		return store.SyncCounts{}, fmt.Errorf("store: replace organisations: %w", err)
	}
	counts := store.SyncCounts{Total: len(docs)}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Serialise replacements; readers (ACCESS SHARE) are not blocked.
		if _, err := tx.Exec(ctx, `LOCK TABLE organisations IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE org_import (oid text PRIMARY KEY, parent_oid text NOT NULL, document jsonb NOT NULL) ON COMMIT DROP`); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"org_import"}, []string{"oid", "parent_oid", "document"},
			pgx.CopyFromSlice(len(docs), func(i int) ([]any, error) {
				return []any{docs[i].OID, docs[i].ParentOID, docs[i].Document}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		if _, err := tx.Exec(ctx, `ANALYZE org_import`); err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `SELECT
			(SELECT COUNT(*) FROM org_import i WHERE NOT EXISTS (SELECT 1 FROM organisations o WHERE o.oid = i.oid)),
			(SELECT COUNT(*) FROM org_import i JOIN organisations o ON o.oid = i.oid WHERE o.document <> i.document OR o.parent_oid <> i.parent_oid),
			(SELECT COUNT(*) FROM organisations o WHERE NOT EXISTS (SELECT 1 FROM org_import i WHERE i.oid = o.oid))`).
			Scan(&counts.Added, &counts.Changed, &counts.Removed)
		if err != nil {
			return fmt.Errorf("compare: %w", err)
		}
		if counts.Removed > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM organisations o WHERE NOT EXISTS (SELECT 1 FROM org_import i WHERE i.oid = o.oid)`); err != nil {
				return fmt.Errorf("delete: %w", err)
			}
		}
		if counts.Added+counts.Changed > 0 {
			_, err := tx.Exec(ctx, `INSERT INTO organisations (oid, parent_oid, document) SELECT oid, parent_oid, document FROM org_import
				ON CONFLICT (oid) DO UPDATE SET parent_oid = excluded.parent_oid, document = excluded.document
				WHERE organisations.document <> excluded.document OR organisations.parent_oid <> excluded.parent_oid`)
			if err != nil {
				return fmt.Errorf("upsert: %w", err)
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
	rows, err := s.pool.Query(ctx, `SELECT document FROM organisations ORDER BY oid`)
	if err != nil {
		return nil, fmt.Errorf("store: list organisations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.Organisation, error) {
		var doc []byte
		if err := r.Scan(&doc); err != nil {
			return model.Organisation{}, err
		}
		return storeutil.DecodeOrganisation(doc)
	})
	if err != nil {
		return nil, fmt.Errorf("store: list organisations: %w", err)
	}
	return out, nil
}

// GetOrganisation returns the organisation with oid.
func (s *Store) GetOrganisation(ctx context.Context, oid string) (*model.Organisation, error) {
	var doc []byte
	err := s.pool.QueryRow(ctx, `SELECT document FROM organisations WHERE oid = $1`, oid).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
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
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM organisations`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count organisations: %w", err)
	}
	return n, nil
}

// RecordSyncRun inserts (ID 0) or updates a sync run and returns its id.
func (s *Store) RecordSyncRun(ctx context.Context, run model.SyncRun) (int64, error) {
	if run.ID == 0 {
		var id int64
		err := s.pool.QueryRow(ctx, `INSERT INTO sync_runs (started_at, finished_at, outcome, added, changed, removed, total, error)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			run.StartedAt, run.FinishedAt, run.Outcome, run.Added, run.Changed, run.Removed, run.Total, run.Error).Scan(&id)
		if err != nil {
			return 0, fmt.Errorf("store: record sync run: %w", err)
		}
		return id, nil
	}
	tag, err := s.pool.Exec(ctx, `UPDATE sync_runs SET started_at = $1, finished_at = $2, outcome = $3, added = $4, changed = $5,
		removed = $6, total = $7, error = $8 WHERE id = $9`,
		run.StartedAt, run.FinishedAt, run.Outcome, run.Added, run.Changed, run.Removed, run.Total, run.Error, run.ID)
	if err != nil {
		return 0, fmt.Errorf("store: record sync run %d: %w", run.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return 0, fmt.Errorf("store: record sync run %d: %w", run.ID, store.ErrNotFound)
	}
	return run.ID, nil
}

// SyncRuns lists the latest runs, newest first; limit <= 0 lists all.
func (s *Store) SyncRuns(ctx context.Context, limit int) ([]model.SyncRun, error) {
	var lim *int64
	if limit > 0 {
		l := int64(limit)
		lim = &l
	}
	rows, err := s.pool.Query(ctx, `SELECT id, started_at, finished_at, outcome, added, changed, removed, total, error
		FROM sync_runs ORDER BY started_at DESC, id DESC LIMIT $1`, lim)
	if err != nil {
		return nil, fmt.Errorf("store: sync runs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (model.SyncRun, error) {
		var r model.SyncRun
		err := row.Scan(&r.ID, &r.StartedAt, &r.FinishedAt, &r.Outcome, &r.Added, &r.Changed, &r.Removed, &r.Total, &r.Error)
		r.StartedAt, r.FinishedAt = utc(r.StartedAt), utcPtr(r.FinishedAt)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: sync runs: %w", err)
	}
	return out, nil
}
