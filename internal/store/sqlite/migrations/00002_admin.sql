-- The management service's own tables. Keep it parallel to
-- postgres/migrations/00002_admin.sql.

-- +goose Up
CREATE TABLE IF NOT EXISTS admin_logos (
    integration_id INTEGER PRIMARY KEY,
    content_type   TEXT    NOT NULL,
    data           BLOB    NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS admin_api_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE,
    groups     TEXT    NOT NULL, -- JSON array
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
);

CREATE TABLE IF NOT EXISTS admin_provisioning_runs (
    deployment_phase INTEGER PRIMARY KEY,
    last_time        INTEGER NOT NULL
);

-- +goose Down
DROP TABLE admin_provisioning_runs;
DROP TABLE admin_api_tokens;
DROP TABLE admin_logos;
