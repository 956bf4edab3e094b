-- Account lifecycle by email and audit: one-time link tokens, the durable
-- outbox, the audit log; the record of revoked token families; the subject of
-- an id_token_hint on auth requests. Types as in 00001: TIMESTAMP columns
-- hold integer microseconds; ids are AUTOINCREMENT so they are never reused.

-- +goose Up
CREATE TABLE one_time_tokens (
    hash       TEXT PRIMARY KEY,                 -- SHA-256 of the link secret; the secret is never stored
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,                    -- password_reset | invitation | email_change: bound at creation
    data       TEXT NOT NULL,                    -- purpose-specific, e.g. the new email
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,               -- unusable after this
    used_at    TIMESTAMP,                        -- NULL until used: single use
    voided_at  TIMESTAMP                         -- set when a newer token of the user+purpose replaced it
);
CREATE INDEX one_time_tokens_user_purpose_idx ON one_time_tokens (user_id, purpose);
CREATE INDEX one_time_tokens_expires_idx ON one_time_tokens (expires_at);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT, -- delivery order; list cursor
    channel         TEXT NOT NULL,               -- email | sms
    recipient       TEXT NOT NULL,
    body            BLOB,                        -- sealed content; NULL once sent
    status          TEXT NOT NULL,               -- pending | sent | failed: only pending is delivered
    attempts        INTEGER NOT NULL,            -- claims so far
    next_attempt_at TIMESTAMP NOT NULL,          -- not claimed before this
    claimed_until   TIMESTAMP,                   -- a worker holds it until then; NULL when free
    last_error      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP
);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- order (newest first) and list cursor
    at          TIMESTAMP NOT NULL,
    actor_id    TEXT NOT NULL,                   -- user id, '' for the system; no foreign key: entries outlive users
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    source_addr TEXT NOT NULL,
    changes     TEXT NOT NULL                    -- JSON object: field → [old, new]; never secrets
);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);
CREATE INDEX audit_log_target_idx ON audit_log (target_id, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- A family stays revoked: a token stored after the revocation (concurrently
-- with it) reads back revoked and cannot be rotated. Rows are tiny and kept.
CREATE TABLE revoked_families (
    family_id  TEXT PRIMARY KEY,
    revoked_at TIMESTAMP NOT NULL                -- the first revocation
);

ALTER TABLE auth_requests ADD COLUMN hint_subject TEXT NOT NULL DEFAULT ''; -- id_token_hint's subject; '' when none

-- +goose Down
ALTER TABLE auth_requests DROP COLUMN hint_subject;
DROP TABLE revoked_families;
DROP TABLE audit_log;
DROP TABLE outbox;
DROP TABLE one_time_tokens;
