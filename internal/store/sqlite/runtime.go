package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mpassid/mpassid/internal/store"
	"github.com/mpassid/mpassid/internal/store/internal/storeutil"
)

// put runs an insert that replaces only an expired row (its ON CONFLICT
// clause ends in WHERE <table>.expires_at <= now); a live row is a duplicate.
func (s *Store) put(ctx context.Context, what, key, query string, args ...any) error {
	n, err := s.batch.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: put %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("store: put %s: %w", what, &store.DuplicateError{Field: "id", Value: key})
	}
	return nil
}

// PutTransaction stores a new login transaction.
func (s *Store) PutTransaction(ctx context.Context, t store.Transaction) error {
	now := us(time.Now())
	return s.put(ctx, "transaction", t.ID, `INSERT INTO transactions (id, data, expires_at, used_at) VALUES (?, ?, ?, NULL)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, used_at = NULL
		WHERE transactions.expires_at <= ?`, t.ID, t.Data, us(t.ExpiresAt), now)
}

// GetTransaction returns a live, unconsumed transaction.
func (s *Store) GetTransaction(ctx context.Context, id string) (*store.Transaction, error) {
	t := store.Transaction{ID: id}
	var exp int64
	err := s.queryRowR(ctx, `SELECT data, expires_at FROM transactions WHERE id = ? AND used_at IS NULL AND expires_at > ?`,
		id, us(time.Now())).Scan(&t.Data, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: get transaction: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get transaction: %w", err)
	}
	t.ExpiresAt = tm(exp)
	return &t, nil
}

// UpdateTransaction replaces Data and ExpiresAt of a live transaction.
func (s *Store) UpdateTransaction(ctx context.Context, t store.Transaction) error {
	res, err := s.execW(ctx, `UPDATE transactions SET data = ?, expires_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ?`,
		t.Data, us(t.ExpiresAt), t.ID, us(time.Now()))
	return affected("update transaction", res, err)
}

func affected(what string, res sql.Result, err error) error {
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s: %w", what, store.ErrNotFound)
	}
	return nil
}

// usedOrMissing tells, after a failed consume, whether the record exists
// live but used (ErrAlreadyUsed) or is missing or expired (ErrNotFound).
func usedOrMissing(used sql.NullInt64, exp int64, now int64) error {
	if used.Valid && exp > now {
		return store.ErrAlreadyUsed
	}
	return store.ErrNotFound
}

// ConsumeTransaction returns the transaction and ends it atomically.
func (s *Store) ConsumeTransaction(ctx context.Context, id string) (*store.Transaction, error) {
	now := us(time.Now())
	t := store.Transaction{ID: id}
	var exp int64
	err := s.queryRowW(ctx, `UPDATE transactions SET used_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ? RETURNING data, expires_at`,
		now, id, now).Scan(&t.Data, &exp)
	if err == nil {
		t.ExpiresAt = tm(exp)
		return &t, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: consume transaction: %w", err)
	}
	var used sql.NullInt64
	err = s.queryRowW(ctx, `SELECT used_at, expires_at FROM transactions WHERE id = ?`, id).Scan(&used, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: consume transaction: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: consume transaction: %w", err)
	}
	return nil, fmt.Errorf("store: consume transaction: %w", usedOrMissing(used, exp, now))
}

// PutSession stores a new SSO session.
func (s *Store) PutSession(ctx context.Context, ss store.Session) error {
	created := ss.CreatedAt
	if created.IsZero() {
		created = storeutil.Now()
	}
	now := us(time.Now())
	return s.put(ctx, "session", ss.ID, `INSERT INTO sessions (id, subject_hash, data, created_at, expires_at, idle_expires_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET subject_hash = excluded.subject_hash, data = excluded.data, created_at = excluded.created_at,
			expires_at = excluded.expires_at, idle_expires_at = excluded.idle_expires_at
		WHERE sessions.expires_at <= ? OR sessions.idle_expires_at <= ?`,
		ss.ID, ss.SubjectHash, ss.Data, us(created), us(ss.ExpiresAt), us(storeutil.IdleEnd(ss.IdleExpiresAt, ss.ExpiresAt)), now, now)
}

// GetSession returns a live session.
func (s *Store) GetSession(ctx context.Context, id string) (*store.Session, error) {
	now := us(time.Now())
	ss := store.Session{ID: id}
	var created, exp, idle int64
	err := s.queryRowR(ctx, `SELECT subject_hash, data, created_at, expires_at, idle_expires_at FROM sessions
		WHERE id = ? AND expires_at > ? AND idle_expires_at > ?`, id, now, now).Scan(&ss.SubjectHash, &ss.Data, &created, &exp, &idle)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: get session: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get session: %w", err)
	}
	ss.CreatedAt, ss.ExpiresAt, ss.IdleExpiresAt = tm(created), tm(exp), tm(idle)
	return &ss, nil
}

// TouchSession updates Data and moves IdleExpiresAt of a live session.
func (s *Store) TouchSession(ctx context.Context, id string, data []byte, idleExpiresAt time.Time) error {
	now := us(time.Now())
	res, err := s.execW(ctx, `UPDATE sessions SET data = ?, idle_expires_at = MIN(?, expires_at) WHERE id = ? AND expires_at > ? AND idle_expires_at > ?`,
		data, us(idleExpiresAt), id, now, now)
	return affected("touch session", res, err)
}

// DeleteSession removes a session; deleting a missing one is not an error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.execW(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// PutToken stores a new access or refresh token.
func (s *Store) PutToken(ctx context.Context, t store.Token) error {
	return s.put(ctx, "token", "", `INSERT INTO tokens (hash, kind, client_id, grant_id, data, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, NULL)
		ON CONFLICT (hash) DO UPDATE SET kind = excluded.kind, client_id = excluded.client_id, grant_id = excluded.grant_id,
			data = excluded.data, expires_at = excluded.expires_at, used_at = NULL
		WHERE tokens.expires_at <= ?`, t.Hash, string(t.Kind), t.ClientID, t.GrantID, t.Data, us(t.ExpiresAt), us(time.Now()))
}

// GetToken returns a live, unconsumed token.
func (s *Store) GetToken(ctx context.Context, hash string) (*store.Token, error) {
	t := store.Token{Hash: hash}
	var (
		kind string
		exp  int64
	)
	err := s.queryRowR(ctx, `SELECT kind, client_id, grant_id, data, expires_at FROM tokens WHERE hash = ? AND used_at IS NULL AND expires_at > ?`,
		hash, us(time.Now())).Scan(&kind, &t.ClientID, &t.GrantID, &t.Data, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: get token: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get token: %w", err)
	}
	t.Kind, t.ExpiresAt = store.TokenKind(kind), tm(exp)
	return &t, nil
}

// ConsumeToken returns the token and marks it used atomically.
func (s *Store) ConsumeToken(ctx context.Context, hash string) (*store.Token, error) {
	now := us(time.Now())
	t := store.Token{Hash: hash}
	var (
		kind string
		exp  int64
	)
	err := s.queryRowW(ctx, `UPDATE tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ?
		RETURNING kind, client_id, grant_id, data, expires_at`, now, hash, now).Scan(&kind, &t.ClientID, &t.GrantID, &t.Data, &exp)
	if err == nil {
		t.Kind, t.ExpiresAt = store.TokenKind(kind), tm(exp)
		return &t, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: consume token: %w", err)
	}
	var used sql.NullInt64
	err = s.queryRowW(ctx, `SELECT used_at, expires_at FROM tokens WHERE hash = ?`, hash).Scan(&used, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: consume token: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: consume token: %w", err)
	}
	return nil, fmt.Errorf("store: consume token: %w", usedOrMissing(used, exp, now))
}

// RevokeGrant deletes every token of a grant and returns how many.
func (s *Store) RevokeGrant(ctx context.Context, grantID string) (int, error) {
	res, err := s.execW(ctx, `DELETE FROM tokens WHERE grant_id = ?`, grantID)
	if err != nil {
		return 0, fmt.Errorf("store: revoke grant: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: revoke grant: %w", err)
	}
	return int(n), nil
}

// MarkUsed records value in ns until expiresAt; false means a live replay.
func (s *Store) MarkUsed(ctx context.Context, ns, value string, expiresAt time.Time) (bool, error) {
	value = storeutil.ReplayKey(value)
	n, err := s.batch.Exec(ctx, `INSERT INTO replay (ns, value, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (ns, value) DO UPDATE SET expires_at = excluded.expires_at WHERE replay.expires_at <= ?`,
		ns, value, us(expiresAt), us(time.Now()))
	if err != nil {
		return false, fmt.Errorf("store: mark used: %w", err)
	}
	if n != 1 {
		return false, nil
	}
	s.mirror.add(ns, value, tm(us(expiresAt)))
	return true, nil
}

// Marked reports whether value is recorded and live in namespace ns. It
// answers from the mirror of ns in memory (marksMirror): this process's
// marks at once, another process's within markMirrorMaxAge.
func (s *Store) Marked(ctx context.Context, ns, value string) (bool, error) {
	marked, err := s.mirror.marked(ctx, ns, storeutil.ReplayKey(value))
	if err != nil {
		return false, fmt.Errorf("store: marked: %w", err)
	}
	return marked, nil
}

// liveMarks returns the live marks of ns as stored: the mirror's load.
func (s *Store) liveMarks(ctx context.Context, ns string, now time.Time) (map[string]time.Time, error) {
	rows, err := s.queryR(ctx, `SELECT value, expires_at FROM replay WHERE ns = ? AND expires_at > ?`, ns, us(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	marks := map[string]time.Time{}
	for rows.Next() {
		var value string
		var exp int64
		if err := rows.Scan(&value, &exp); err != nil {
			return nil, err
		}
		marks[value] = tm(exp)
	}
	return marks, rows.Err()
}

// DeleteExpired removes runtime records that expired at or before now.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	t := us(now)
	var total int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM transactions WHERE expires_at <= ?1`,
			// idle_expires_at is never after expires_at (PutSession,
			// TouchSession), so it alone says when a session ends.
			`DELETE FROM sessions WHERE idle_expires_at <= ?1`,
			`DELETE FROM tokens WHERE expires_at <= ?1`,
			`DELETE FROM replay WHERE expires_at <= ?1`,
		} {
			res, err := tx.ExecContext(ctx, q, t)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete expired: %w", err)
	}
	return total, nil
}

// --- keys ---

// InsertKey adds a signing key; ErrDuplicate if the id exists.
func (s *Store) InsertKey(ctx context.Context, k store.KeyRecord) error {
	if !storeutil.ValidKeyState(k.State) {
		return fmt.Errorf("store: insert key %s: unknown state %q", k.ID, k.State)
	}
	now := storeutil.Now()
	if k.CreatedAt.IsZero() {
		k.CreatedAt = now
	}
	if k.UpdatedAt.IsZero() {
		k.UpdatedAt = k.CreatedAt
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (id, algorithm, state, sealed_private_key, certificate_der, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.Algorithm, string(k.State), nonNil(k.SealedPrivateKey), nonNil(k.CertificateDER), us(k.CreatedAt), us(k.UpdatedAt))
		if _, dup := uniqueViolation(err); dup {
			return &store.DuplicateError{Field: "id", Value: k.ID}
		}
		if err != nil {
			return err
		}
		return bumpConfig(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("store: insert key %s: %w", k.ID, err)
	}
	return nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// ListKeys returns every key, oldest first.
func (s *Store) ListKeys(ctx context.Context) ([]store.KeyRecord, error) {
	rows, err := s.queryR(ctx, `SELECT id, algorithm, state, sealed_private_key, certificate_der, created_at, updated_at
		FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: list keys: %w", err)
	}
	defer rows.Close()
	out := []store.KeyRecord{}
	for rows.Next() {
		var (
			k                store.KeyRecord
			state            string
			created, updated int64
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &state, &k.SealedPrivateKey, &k.CertificateDER, &created, &updated); err != nil {
			return nil, fmt.Errorf("store: list keys: %w", err)
		}
		k.State, k.CreatedAt, k.UpdatedAt = store.KeyState(state), tm(created), tm(updated)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list keys: %w", err)
	}
	return out, nil
}

// SetKeyStates changes the states of several keys in one transaction;
// ErrNotFound (and no change) if any id is unknown.
func (s *Store) SetKeyStates(ctx context.Context, states map[string]store.KeyState) error {
	for id, st := range states {
		if !storeutil.ValidKeyState(st) {
			return fmt.Errorf("store: set key states: key %s: unknown state %q", id, st)
		}
	}
	now := us(storeutil.Now())
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for id, st := range states {
			res, err := tx.ExecContext(ctx, `UPDATE signing_keys SET state = ?, updated_at = ? WHERE id = ?`, string(st), now, id)
			if err := affected("key "+id, res, err); err != nil {
				return err
			}
		}
		return bumpConfig(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("store: set key states: %w", err)
	}
	return nil
}
