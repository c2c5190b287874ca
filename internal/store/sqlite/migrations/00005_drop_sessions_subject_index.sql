-- Nothing looks sessions up by subject, yet every login paid for this
-- index: a random key, so a page of its own in each commit. The column
-- stays; an index can come back with the query that needs it.

-- +goose Up
DROP INDEX IF EXISTS sessions_subject_hash;

-- +goose Down
CREATE INDEX IF NOT EXISTS sessions_subject_hash ON sessions (subject_hash);
