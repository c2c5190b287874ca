-- The initial schema. Keep it parallel to postgres/migrations/00001_init.sql.
-- Times are Unix microseconds (UTC); documents are JSON text.

-- +goose Up
CREATE TABLE IF NOT EXISTS config_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO config_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;

CREATE TABLE IF NOT EXISTS integrations (
    id               INTEGER PRIMARY KEY,
    role             TEXT    NOT NULL,
    type             TEXT    NOT NULL,
    organisation_oid TEXT    NOT NULL,
    deployment_phase INTEGER NOT NULL,
    status           TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    entity_id        TEXT    NOT NULL,
    client_id        TEXT    NOT NULL,
    search           TEXT    NOT NULL, -- lower-cased name, OID, entityID, client_id
    version          INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    document         TEXT    NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS integrations_entity_id_active
    ON integrations (entity_id) WHERE status = 'active' AND entity_id <> '';
CREATE UNIQUE INDEX IF NOT EXISTS integrations_client_id_active
    ON integrations (client_id) WHERE status = 'active' AND client_id <> '';
CREATE INDEX IF NOT EXISTS integrations_organisation_oid ON integrations (organisation_oid);
CREATE INDEX IF NOT EXISTS integrations_entity_id ON integrations (entity_id);
CREATE INDEX IF NOT EXISTS integrations_client_id ON integrations (client_id);

CREATE TABLE IF NOT EXISTS integration_revisions (
    integration_id INTEGER NOT NULL REFERENCES integrations (id),
    version        INTEGER NOT NULL,
    actor          TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    document       TEXT    NOT NULL,
    PRIMARY KEY (integration_id, version)
);

CREATE TABLE IF NOT EXISTS organisations (
    oid        TEXT PRIMARY KEY,
    parent_oid TEXT NOT NULL,
    document   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS organisations_parent_oid ON organisations (parent_oid);

CREATE TABLE IF NOT EXISTS sync_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    outcome     TEXT    NOT NULL,
    added       INTEGER NOT NULL,
    changed     INTEGER NOT NULL,
    removed     INTEGER NOT NULL,
    total       INTEGER NOT NULL,
    error       TEXT    NOT NULL
);

CREATE TABLE IF NOT EXISTS transactions (
    id         TEXT PRIMARY KEY,
    data       BLOB,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX IF NOT EXISTS transactions_expires_at ON transactions (expires_at);

CREATE TABLE IF NOT EXISTS sessions (
    id              TEXT PRIMARY KEY,
    subject_hash    TEXT    NOT NULL,
    data            BLOB,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    idle_expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_subject_hash ON sessions (subject_hash);
CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at);
CREATE INDEX IF NOT EXISTS sessions_idle_expires_at ON sessions (idle_expires_at);

CREATE TABLE IF NOT EXISTS codes (
    hash       TEXT PRIMARY KEY,
    client_id  TEXT    NOT NULL,
    grant_id   TEXT    NOT NULL,
    data       BLOB,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX IF NOT EXISTS codes_expires_at ON codes (expires_at);

CREATE TABLE IF NOT EXISTS tokens (
    hash       TEXT PRIMARY KEY,
    kind       TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    grant_id   TEXT    NOT NULL,
    data       BLOB,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX IF NOT EXISTS tokens_grant_id ON tokens (grant_id);
CREATE INDEX IF NOT EXISTS tokens_expires_at ON tokens (expires_at);

CREATE TABLE IF NOT EXISTS replay (
    ns         TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (ns, value)
);
CREATE INDEX IF NOT EXISTS replay_expires_at ON replay (expires_at);

CREATE TABLE IF NOT EXISTS signing_keys (
    id                 TEXT PRIMARY KEY,
    algorithm          TEXT    NOT NULL,
    state              TEXT    NOT NULL,
    sealed_private_key BLOB    NOT NULL,
    certificate_der    BLOB    NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE replay;
DROP TABLE tokens;
DROP TABLE codes;
DROP TABLE sessions;
DROP TABLE transactions;
DROP TABLE sync_runs;
DROP TABLE organisations;
DROP TABLE integration_revisions;
DROP TABLE integrations;
DROP TABLE config_version;
