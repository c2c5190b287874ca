package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

var _ store.Admin = (*Store)(nil)

// PutLogo stores (or replaces) the logo of an integration.
func (s *Store) PutLogo(ctx context.Context, l store.Logo) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO admin_logos (integration_id, content_type, data, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (integration_id) DO UPDATE SET content_type = excluded.content_type, data = excluded.data, updated_at = excluded.updated_at`,
		l.IntegrationID, l.ContentType, l.Data, us(l.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: put logo of %d: %w", l.IntegrationID, err)
	}
	return nil
}

// GetLogo returns the logo of an integration.
func (s *Store) GetLogo(ctx context.Context, id int64) (*store.Logo, error) {
	l := store.Logo{IntegrationID: id}
	var updated int64
	err := s.r.QueryRowContext(ctx, `SELECT content_type, data, updated_at FROM admin_logos WHERE integration_id = ?`, id).
		Scan(&l.ContentType, &l.Data, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: logo of %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: logo of %d: %w", id, err)
	}
	l.UpdatedAt = tm(updated)
	return &l, nil
}

// InsertAPIToken adds a token.
func (s *Store) InsertAPIToken(ctx context.Context, t store.APIToken) error {
	groups, err := json.Marshal(nonNilStrings(t.Groups))
	if err != nil {
		return fmt.Errorf("store: insert api token: %w", err)
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO admin_api_tokens (id, name, hash, groups, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, t.Hash, string(groups), t.CreatedBy, us(t.CreatedAt), nullUs(t.ExpiresAt))
	if _, dup := uniqueViolation(err); dup {
		return fmt.Errorf("store: insert api token %s: %w", t.ID, store.ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("store: insert api token %s: %w", t.ID, err)
	}
	return nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const apiTokenCols = `id, name, hash, groups, created_by, created_at, expires_at`

func scanAPIToken(sc interface{ Scan(...any) error }) (store.APIToken, error) {
	var (
		t       store.APIToken
		groups  string
		created int64
		expires sql.NullInt64
	)
	if err := sc.Scan(&t.ID, &t.Name, &t.Hash, &groups, &t.CreatedBy, &created, &expires); err != nil {
		return t, err
	}
	if err := json.Unmarshal([]byte(groups), &t.Groups); err != nil {
		return t, fmt.Errorf("groups of token %s: %w", t.ID, err)
	}
	t.CreatedAt = tm(created)
	t.ExpiresAt = nullTm(expires)
	return t, nil
}

// APITokenByHash finds a live token by hash.
func (s *Store) APITokenByHash(ctx context.Context, hash string, now time.Time) (*store.APIToken, error) {
	t, err := scanAPIToken(s.r.QueryRowContext(ctx, `SELECT `+apiTokenCols+` FROM admin_api_tokens
		WHERE hash = ? AND (expires_at IS NULL OR expires_at > ?)`, hash, us(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: api token: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: api token: %w", err)
	}
	return &t, nil
}

// ListAPITokens lists every token, newest first.
func (s *Store) ListAPITokens(ctx context.Context) ([]store.APIToken, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+apiTokenCols+` FROM admin_api_tokens ORDER BY created_at DESC, id`)
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
	res, err := s.w.ExecContext(ctx, `DELETE FROM admin_api_tokens WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("store: delete api token %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: delete api token %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("store: delete api token %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// RecordProvisioning records a provisioning run of a deployment phase.
func (s *Store) RecordProvisioning(ctx context.Context, phase model.DeploymentPhase, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO admin_provisioning_runs (deployment_phase, last_time) VALUES (?, ?)
		ON CONFLICT (deployment_phase) DO UPDATE SET last_time = excluded.last_time`, int(phase), us(at))
	if err != nil {
		return fmt.Errorf("store: record provisioning of phase %d: %w", phase, err)
	}
	return nil
}

// LastProvisioning returns the last recorded run of each phase.
func (s *Store) LastProvisioning(ctx context.Context) (map[model.DeploymentPhase]time.Time, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT deployment_phase, last_time FROM admin_provisioning_runs`)
	if err != nil {
		return nil, fmt.Errorf("store: provisioning runs: %w", err)
	}
	defer rows.Close()
	out := map[model.DeploymentPhase]time.Time{}
	for rows.Next() {
		var phase int
		var at int64
		if err := rows.Scan(&phase, &at); err != nil {
			return nil, fmt.Errorf("store: provisioning runs: %w", err)
		}
		out[model.DeploymentPhase(phase)] = tm(at)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: provisioning runs: %w", err)
	}
	return out, nil
}
