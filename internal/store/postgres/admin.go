package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

var _ store.Admin = (*Store)(nil)

// PutLogo stores (or replaces) the logo of an integration.
func (s *Store) PutLogo(ctx context.Context, l store.Logo) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO admin_logos (integration_id, content_type, data, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (integration_id) DO UPDATE SET content_type = excluded.content_type, data = excluded.data, updated_at = excluded.updated_at`,
		l.IntegrationID, l.ContentType, l.Data, utc(l.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: put logo of %d: %w", l.IntegrationID, err)
	}
	return nil
}

// GetLogo returns the logo of an integration.
func (s *Store) GetLogo(ctx context.Context, id int64) (*store.Logo, error) {
	l := store.Logo{IntegrationID: id}
	err := s.pool.QueryRow(ctx, `SELECT content_type, data, updated_at FROM admin_logos WHERE integration_id = $1`, id).
		Scan(&l.ContentType, &l.Data, &l.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("store: logo of %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: logo of %d: %w", id, err)
	}
	l.UpdatedAt = l.UpdatedAt.UTC()
	return &l, nil
}

// InsertAPIToken adds a token.
func (s *Store) InsertAPIToken(ctx context.Context, t store.APIToken) error {
	groups := t.Groups
	if groups == nil {
		groups = []string{}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO admin_api_tokens (id, name, hash, groups, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.Name, t.Hash, groups, t.CreatedBy, utc(t.CreatedAt), utcPtr(t.ExpiresAt))
	if _, dup := uniqueViolation(err); dup {
		return fmt.Errorf("store: insert api token %s: %w", t.ID, store.ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("store: insert api token %s: %w", t.ID, err)
	}
	return nil
}

const apiTokenCols = `id, name, hash, groups, created_by, created_at, expires_at`

func scanAPIToken(row pgx.Row) (store.APIToken, error) {
	var t store.APIToken
	if err := row.Scan(&t.ID, &t.Name, &t.Hash, &t.Groups, &t.CreatedBy, &t.CreatedAt, &t.ExpiresAt); err != nil {
		return t, err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	t.ExpiresAt = utcPtr(t.ExpiresAt)
	return t, nil
}

// APITokenByHash finds a live token by hash.
func (s *Store) APITokenByHash(ctx context.Context, hash string, now time.Time) (*store.APIToken, error) {
	t, err := scanAPIToken(s.pool.QueryRow(ctx, `SELECT `+apiTokenCols+` FROM admin_api_tokens
		WHERE hash = $1 AND (expires_at IS NULL OR expires_at > $2)`, hash, utc(now)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("store: api token: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: api token: %w", err)
	}
	return &t, nil
}

// ListAPITokens lists every token, newest first.
func (s *Store) ListAPITokens(ctx context.Context) ([]store.APIToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+apiTokenCols+` FROM admin_api_tokens ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("store: list api tokens: %w", err)
	}
	defer rows.Close()
	out := []store.APIToken{}
	for rows.Next() {
		t, err := scanAPIToken(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list api tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list api tokens: %w", err)
	}
	return out, nil
}

// DeleteAPIToken revokes a token.
func (s *Store) DeleteAPIToken(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM admin_api_tokens WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("store: delete api token %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: delete api token %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// RecordProvisioning records a provisioning run of a deployment phase.
func (s *Store) RecordProvisioning(ctx context.Context, phase model.DeploymentPhase, at time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO admin_provisioning_runs (deployment_phase, last_time) VALUES ($1, $2)
		ON CONFLICT (deployment_phase) DO UPDATE SET last_time = excluded.last_time`, int(phase), utc(at))
	if err != nil {
		return fmt.Errorf("store: record provisioning of phase %d: %w", phase, err)
	}
	return nil
}

// LastProvisioning returns the last recorded run of each phase.
func (s *Store) LastProvisioning(ctx context.Context) (map[model.DeploymentPhase]time.Time, error) {
	rows, err := s.pool.Query(ctx, `SELECT deployment_phase, last_time FROM admin_provisioning_runs`)
	if err != nil {
		return nil, fmt.Errorf("store: provisioning runs: %w", err)
	}
	defer rows.Close()
	out := map[model.DeploymentPhase]time.Time{}
	for rows.Next() {
		var phase int
		var at time.Time
		if err := rows.Scan(&phase, &at); err != nil {
			return nil, fmt.Errorf("store: provisioning runs: %w", err)
		}
		out[model.DeploymentPhase(phase)] = at.UTC()
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: provisioning runs: %w", err)
	}
	return out, nil
}
