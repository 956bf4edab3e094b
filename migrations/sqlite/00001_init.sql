-- The provider's first schema. Lists (redirect URIs, scopes, AMR, audience,
-- grant types, admit lists) are JSON arrays in TEXT columns, exactly as in the
-- postgres dialect, so one set of queries serves both. Times are declared
-- TIMESTAMP, which the store (DSN _time_integer_format=unix_micro and
-- _inttotime=1) writes as integer microseconds and reads back as time.Time;
-- NULL means "not set" wherever the Go field's zero value means that.
-- Booleans are declared BOOLEAN so the driver returns bool.

-- +goose Up
CREATE TABLE users (
    id             TEXT PRIMARY KEY,        -- random opaque id; the OIDC subject
    type           TEXT NOT NULL,           -- employee | clinician
    given_name     TEXT NOT NULL,
    family_name    TEXT NOT NULL,
    email          TEXT NOT NULL,           -- as entered
    email_key      TEXT NOT NULL,           -- lower-cased email: the unique sign-in key
    email_verified BOOLEAN NOT NULL,
    phone          TEXT,                    -- E.164 or NULL; unique when set: the mobile sign-in key
    status         TEXT NOT NULL,           -- invited | active | disabled: who may sign in
    password_hash  TEXT NOT NULL,           -- argon2id PHC; '' when no password is set
    job_title      TEXT NOT NULL,
    department     TEXT NOT NULL,
    discipline     TEXT NOT NULL,
    name_key       TEXT NOT NULL,           -- lower-cased full name, which ListUsers searches
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    version        INTEGER NOT NULL         -- compare-and-swap guard: bumped by every update
);
CREATE UNIQUE INDEX users_email_key_uniq ON users (email_key);
CREATE UNIQUE INDEX users_phone_uniq ON users (phone) WHERE phone IS NOT NULL;
CREATE INDEX users_type_idx ON users (type, id);
CREATE INDEX users_status_idx ON users (status, id);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL,                  -- super_admin | admin | assigning_manager: grants permissions
    PRIMARY KEY (user_id, role)
);
CREATE INDEX user_roles_role_idx ON user_roles (role, user_id);

CREATE TABLE clients (
    id                        TEXT PRIMARY KEY,  -- the client_id a module presents
    name                      TEXT NOT NULL,
    secret_hash               TEXT NOT NULL,     -- argon2id PHC; '' for public clients
    public                    BOOLEAN NOT NULL,  -- no secret; PKCE required
    redirect_uris             TEXT NOT NULL,     -- JSON array: exact-match allow list
    post_logout_redirect_uris TEXT NOT NULL,     -- JSON array: exact-match allow list
    grant_types               TEXT NOT NULL,     -- JSON array: grants the client may use
    admit_roles               TEXT NOT NULL,     -- JSON array: roles admitted to sign in
    admit_types               TEXT NOT NULL,     -- JSON array: user types admitted to sign in
    scopes                    TEXT NOT NULL,     -- JSON array: extra scopes the client may request
    created_at                TIMESTAMP NOT NULL,
    updated_at                TIMESTAMP NOT NULL,
    version                   INTEGER NOT NULL   -- compare-and-swap guard for UpdateClient
);

CREATE TABLE auth_requests (
    id                    TEXT PRIMARY KEY,      -- random, travels through the login pages
    client_id             TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    redirect_uri          TEXT NOT NULL,
    state                 TEXT NOT NULL,
    nonce                 TEXT NOT NULL,
    scopes                TEXT NOT NULL,         -- JSON array
    response_type         TEXT NOT NULL,
    response_mode         TEXT NOT NULL,
    code_challenge        TEXT NOT NULL,         -- PKCE: binds the code to the client's verifier
    code_challenge_method TEXT NOT NULL,
    prompt                TEXT NOT NULL,         -- JSON array
    max_age_ns            INTEGER,               -- NULL when max_age was not sent
    login_hint            TEXT NOT NULL,
    created_at            TIMESTAMP NOT NULL,
    expires_at            TIMESTAMP NOT NULL,    -- after this the request and its code are dead
    user_id               TEXT NOT NULL,         -- '' until the user has authenticated
    auth_time             TIMESTAMP,
    amr                   TEXT NOT NULL,         -- JSON array
    session_id            TEXT NOT NULL,
    done                  BOOLEAN NOT NULL,      -- authentication finished: a code may be issued
    code_hash             TEXT,                  -- hash of the issued code; NULL until issued
    redeemed_at           TIMESTAMP,             -- NULL until the code is exchanged: single use
    family_id             TEXT NOT NULL          -- token family the redemption produced; '' before
);
CREATE UNIQUE INDEX auth_requests_code_hash_uniq ON auth_requests (code_hash);
CREATE INDEX auth_requests_expires_idx ON auth_requests (expires_at);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,               -- hash of the cookie value; the value is never stored
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time    TIMESTAMP NOT NULL,
    amr          TEXT NOT NULL,                  -- JSON array
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP                       -- NULL while valid
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE access_tokens (
    id         TEXT PRIMARY KEY,                 -- the token's jti
    family_id  TEXT NOT NULL,                    -- '' for client_credentials tokens
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject    TEXT NOT NULL,                    -- user id, or the client id for client_credentials
    audience   TEXT NOT NULL,                    -- JSON array
    scopes     TEXT NOT NULL,                    -- JSON array
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP                         -- NULL while valid
);
CREATE INDEX access_tokens_family_idx ON access_tokens (family_id);
CREATE INDEX access_tokens_subject_idx ON access_tokens (subject);
CREATE INDEX access_tokens_expires_idx ON access_tokens (expires_at);

CREATE TABLE refresh_tokens (
    id_hash    TEXT PRIMARY KEY,                 -- hash of the token value; the value is never stored
    family_id  TEXT NOT NULL,                    -- tokens from one code; reuse revokes them all
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,                    -- JSON array
    audience   TEXT NOT NULL,                    -- JSON array
    auth_time  TIMESTAMP NOT NULL,
    amr        TEXT NOT NULL,                    -- JSON array
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    rotated_at TIMESTAMP,                        -- NULL until exchanged: single use
    revoked_at TIMESTAMP                         -- NULL while valid
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

CREATE TABLE signing_keys (
    id          TEXT PRIMARY KEY,                -- the JWK kid
    algorithm   TEXT NOT NULL,
    private_key BLOB NOT NULL,                   -- PKCS#8, encrypted with the key-encryption key
    public_key  BLOB NOT NULL,                   -- PKIX DER
    created_at  TIMESTAMP NOT NULL,
    activate_at TIMESTAMP NOT NULL,              -- signs from then on; published before
    expire_at   TIMESTAMP                        -- leaves the JWKS then; NULL while open-ended
);

CREATE TABLE throttles (
    throttle_key    TEXT PRIMARY KEY,            -- "account:<id>", "ip:<addr>"
    failures        INTEGER NOT NULL,            -- failed attempts in the current window
    last_failure_at TIMESTAMP NOT NULL,          -- a failure after the window starts the count again
    locked_until    TIMESTAMP,                   -- NULL when not locked
    expires_at      TIMESTAMP NOT NULL           -- window and lock both over: DeleteExpired may drop it
);
CREATE INDEX throttles_expires_idx ON throttles (expires_at);

-- +goose Down
DROP TABLE throttles;
DROP TABLE signing_keys;
DROP TABLE refresh_tokens;
DROP TABLE access_tokens;
DROP TABLE sessions;
DROP TABLE auth_requests;
DROP TABLE clients;
DROP TABLE user_roles;
DROP TABLE users;
