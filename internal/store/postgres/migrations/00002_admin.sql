-- The management service's own tables. Keep it parallel to
-- sqlite/migrations/00002_admin.sql.

-- +goose Up
CREATE TABLE admin_logos (
    integration_id bigint      PRIMARY KEY,
    content_type   text        NOT NULL,
    data           bytea       NOT NULL,
    updated_at     timestamptz NOT NULL
);

CREATE TABLE admin_api_tokens (
    id         text        PRIMARY KEY,
    name       text        NOT NULL,
    hash       text        NOT NULL UNIQUE,
    groups     jsonb       NOT NULL,
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz
);

CREATE TABLE admin_provisioning_runs (
    deployment_phase integer     PRIMARY KEY,
    last_time        timestamptz NOT NULL
);

-- +goose Down
DROP TABLE admin_provisioning_runs;
DROP TABLE admin_api_tokens;
DROP TABLE admin_logos;
