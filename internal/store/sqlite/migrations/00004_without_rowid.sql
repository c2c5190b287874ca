-- Every login writes replay marks (a source's assertion, an OIDC code's
-- use). Keyed by its primary key alone (WITHOUT ROWID), an insert updates
-- one B-tree fewer: the table is the primary-key index. Its rows are small
-- (a namespace, a SHA-256, a time), which is where SQLite recommends it;
-- sessions, with their larger data, keep their rowid.

-- +goose Up
CREATE TABLE replay_new (
    ns         TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (ns, value)
) WITHOUT ROWID;
INSERT INTO replay_new (ns, value, expires_at) SELECT ns, value, expires_at FROM replay;
DROP TABLE replay;
ALTER TABLE replay_new RENAME TO replay;
CREATE INDEX replay_expires_at ON replay (expires_at);

-- +goose Down
CREATE TABLE replay_old (
    ns         TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (ns, value)
);
INSERT INTO replay_old (ns, value, expires_at) SELECT ns, value, expires_at FROM replay;
DROP TABLE replay;
ALTER TABLE replay_old RENAME TO replay;
CREATE INDEX replay_expires_at ON replay (expires_at);
