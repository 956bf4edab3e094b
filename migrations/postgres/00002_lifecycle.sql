-- Account lifecycle by email and audit: one-time link tokens, the durable
-- outbox, the audit log; the record of revoked token families; the subject of
-- an id_token_hint on auth requests.

-- +goose Up
CREATE TABLE one_time_tokens (
    hash       text PRIMARY KEY,                 -- SHA-256 of the link secret; the secret is never stored
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text NOT NULL,                    -- password_reset | invitation | email_change: bound at creation
    data       text NOT NULL,                    -- purpose-specific, e.g. the new email
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,             -- unusable after this
    used_at    timestamptz,                      -- NULL until used: single use
    voided_at  timestamptz                       -- set when a newer token of the user+purpose replaced it
);
CREATE INDEX one_time_tokens_user_purpose_idx ON one_time_tokens (user_id, purpose);
CREATE INDEX one_time_tokens_expires_idx ON one_time_tokens (expires_at);

CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- delivery order; list cursor
    channel         text NOT NULL,               -- email | sms
    recipient       text NOT NULL,
    body            bytea,                       -- sealed content; NULL once sent
    status          text NOT NULL,               -- pending | sent | failed: only pending is delivered
    attempts        integer NOT NULL,            -- claims so far
    next_attempt_at timestamptz NOT NULL,        -- not claimed before this
    claimed_until   timestamptz,                 -- a worker holds it until then; NULL when free
    last_error      text NOT NULL,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz
);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);

CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- order (newest first) and list cursor
    at          timestamptz NOT NULL,
    actor_id    text NOT NULL,                   -- user id, '' for the system; no foreign key: entries outlive users
    action      text NOT NULL,
    target_type text NOT NULL,
    target_id   text NOT NULL,
    source_addr text NOT NULL,
    changes     text NOT NULL                    -- JSON object: field → [old, new]; never secrets
);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);
CREATE INDEX audit_log_target_idx ON audit_log (target_id, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- A family stays revoked: a token stored after the revocation (concurrently
-- with it) reads back revoked and cannot be rotated. Rows are tiny and kept.
CREATE TABLE revoked_families (
    family_id  text PRIMARY KEY,
    revoked_at timestamptz NOT NULL              -- the first revocation
);

ALTER TABLE auth_requests ADD COLUMN hint_subject text NOT NULL DEFAULT ''; -- id_token_hint's subject; '' when none

-- +goose Down
ALTER TABLE auth_requests DROP COLUMN hint_subject;
DROP TABLE revoked_families;
DROP TABLE audit_log;
DROP TABLE outbox;
DROP TABLE one_time_tokens;
