-- Two-factor sign-in with TOTP (RFC 6238): each user's authenticator app
-- secret, sealed with a key derived from the key-encryption key, and their
-- single-use recovery codes, stored only as keyed hashes. Types as in
-- 00001: TIMESTAMP columns hold integer microseconds.

-- +goose Up
CREATE TABLE user_totp (
    user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       BLOB NOT NULL,                   -- AES-GCM sealed, bound to the user id; never the plain secret
    created_at   TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,                       -- NULL while the enrolment is pending: only a confirmed TOTP signs in
    last_step    INTEGER NOT NULL                 -- last accepted time step: a code of this step or earlier is refused (replay)
);

CREATE TABLE recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,                     -- HMAC-SHA-256 of the code under a KEK-derived key; the code is never stored
    created_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP,                         -- NULL until used: single use
    PRIMARY KEY (user_id, hash)
);

-- +goose Down
DROP TABLE recovery_codes;
DROP TABLE user_totp;
