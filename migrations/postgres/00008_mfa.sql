-- Two-factor sign-in with TOTP (RFC 6238): each user's authenticator app
-- secret, sealed with a key derived from the key-encryption key, and their
-- single-use recovery codes, stored only as keyed hashes.

-- +goose Up
CREATE TABLE user_totp (
    user_id      text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       bytea NOT NULL,                  -- AES-GCM sealed, bound to the user id; never the plain secret
    created_at   timestamptz NOT NULL,
    confirmed_at timestamptz,                     -- NULL while the enrolment is pending: only a confirmed TOTP signs in
    last_step    bigint NOT NULL                  -- last accepted time step: a code of this step or earlier is refused (replay)
);

CREATE TABLE recovery_codes (
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       text NOT NULL,                     -- HMAC-SHA-256 of the code under a KEK-derived key; the code is never stored
    created_at timestamptz NOT NULL,
    used_at    timestamptz,                       -- NULL until used: single use
    PRIMARY KEY (user_id, hash)
);

-- +goose Down
DROP TABLE recovery_codes;
DROP TABLE user_totp;
