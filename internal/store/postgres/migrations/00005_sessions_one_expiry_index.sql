-- A session's idle expiry is never after its absolute one (the store
-- keeps it so, and this migration makes it so of older rows), so the
-- sweep of expired sessions needs the index on idle_expires_at alone,
-- where every login paid for a second one.

-- +goose Up
UPDATE sessions SET idle_expires_at = expires_at WHERE idle_expires_at > expires_at;
DROP INDEX IF EXISTS sessions_expires_at;

-- +goose Down
CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at);
