-- OIDC authorization codes are sealed grants now: redeeming one is a mark in
-- the replay table, and nothing stores codes any more.

-- +goose Up
DROP TABLE codes;

-- +goose Down
CREATE TABLE codes (
    hash       text   PRIMARY KEY,
    client_id  text   NOT NULL,
    grant_id   text   NOT NULL,
    data       BLOB,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX codes_expires_at ON codes (expires_at);
