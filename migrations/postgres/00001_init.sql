-- The provider's first schema. Lists (redirect URIs, scopes, AMR, audience,
-- grant types, admit lists) are JSON arrays in text columns, exactly as in the
-- sqlite dialect, so one set of queries serves both. Times are timestamptz;
-- NULL means "not set" wherever the Go field's zero value means that.

-- +goose Up
CREATE TABLE users (
    id             text PRIMARY KEY,        -- random opaque id; the OIDC subject
    type           text NOT NULL,           -- employee | clinician
    given_name     text NOT NULL,
    family_name    text NOT NULL,
    email          text NOT NULL,           -- as entered
    email_key      text NOT NULL,           -- lower-cased email: the unique sign-in key
    email_verified boolean NOT NULL,
    phone          text,                    -- E.164 or NULL; unique when set: the mobile sign-in key
    status         text NOT NULL,           -- invited | active | disabled: who may sign in
    password_hash  text NOT NULL,           -- argon2id PHC; '' when no password is set
    job_title      text NOT NULL,
    department     text NOT NULL,
    discipline     text NOT NULL,
    name_key       text NOT NULL,           -- lower-cased full name, which ListUsers searches
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    version        bigint NOT NULL          -- compare-and-swap guard: bumped by every update
);
CREATE UNIQUE INDEX users_email_key_uniq ON users (email_key);
CREATE UNIQUE INDEX users_phone_uniq ON users (phone) WHERE phone IS NOT NULL;
CREATE INDEX users_type_idx ON users (type, id);
CREATE INDEX users_status_idx ON users (status, id);

CREATE TABLE user_roles (
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    text NOT NULL,                  -- super_admin | admin | assigning_manager: grants permissions
    PRIMARY KEY (user_id, role)
);
CREATE INDEX user_roles_role_idx ON user_roles (role, user_id);

CREATE TABLE clients (
    id                        text PRIMARY KEY,  -- the client_id a module presents
    name                      text NOT NULL,
    secret_hash               text NOT NULL,     -- argon2id PHC; '' for public clients
    public                    boolean NOT NULL,  -- no secret; PKCE required
    redirect_uris             text NOT NULL,     -- JSON array: exact-match allow list
    post_logout_redirect_uris text NOT NULL,     -- JSON array: exact-match allow list
    grant_types               text NOT NULL,     -- JSON array: grants the client may use
    admit_roles               text NOT NULL,     -- JSON array: roles admitted to sign in
    admit_types               text NOT NULL,     -- JSON array: user types admitted to sign in
    scopes                    text NOT NULL,     -- JSON array: extra scopes the client may request
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL,
    version                   bigint NOT NULL    -- compare-and-swap guard for UpdateClient
);

CREATE TABLE auth_requests (
    id                    text PRIMARY KEY,      -- random, travels through the login pages
    client_id             text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    redirect_uri          text NOT NULL,
    state                 text NOT NULL,
    nonce                 text NOT NULL,
    scopes                text NOT NULL,         -- JSON array
    response_type         text NOT NULL,
    response_mode         text NOT NULL,
    code_challenge        text NOT NULL,         -- PKCE: binds the code to the client's verifier
    code_challenge_method text NOT NULL,
    prompt                text NOT NULL,         -- JSON array
    max_age_ns            bigint,                -- NULL when max_age was not sent
    login_hint            text NOT NULL,
    created_at            timestamptz NOT NULL,
    expires_at            timestamptz NOT NULL,  -- after this the request and its code are dead
    user_id               text NOT NULL,         -- '' until the user has authenticated
    auth_time             timestamptz,
    amr                   text NOT NULL,         -- JSON array
    session_id            text NOT NULL,
    done                  boolean NOT NULL,      -- authentication finished: a code may be issued
    code_hash             text,                  -- hash of the issued code; NULL until issued
    redeemed_at           timestamptz,           -- NULL until the code is exchanged: single use
    family_id             text NOT NULL          -- token family the redemption produced; '' before
);
CREATE UNIQUE INDEX auth_requests_code_hash_uniq ON auth_requests (code_hash);
CREATE INDEX auth_requests_expires_idx ON auth_requests (expires_at);

CREATE TABLE sessions (
    id_hash      text PRIMARY KEY,               -- hash of the cookie value; the value is never stored
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time    timestamptz NOT NULL,
    amr          text NOT NULL,                  -- JSON array
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz                     -- NULL while valid
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE access_tokens (
    id         text PRIMARY KEY,                 -- the token's jti
    family_id  text NOT NULL,                    -- '' for client_credentials tokens
    client_id  text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject    text NOT NULL,                    -- user id, or the client id for client_credentials
    audience   text NOT NULL,                    -- JSON array
    scopes     text NOT NULL,                    -- JSON array
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz                       -- NULL while valid
);
CREATE INDEX access_tokens_family_idx ON access_tokens (family_id);
CREATE INDEX access_tokens_subject_idx ON access_tokens (subject);
CREATE INDEX access_tokens_expires_idx ON access_tokens (expires_at);

CREATE TABLE refresh_tokens (
    id_hash    text PRIMARY KEY,                 -- hash of the token value; the value is never stored
    family_id  text NOT NULL,                    -- tokens from one code; reuse revokes them all
    client_id  text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes     text NOT NULL,                    -- JSON array
    audience   text NOT NULL,                    -- JSON array
    auth_time  timestamptz NOT NULL,
    amr        text NOT NULL,                    -- JSON array
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    rotated_at timestamptz,                      -- NULL until exchanged: single use
    revoked_at timestamptz                       -- NULL while valid
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

CREATE TABLE signing_keys (
    id          text PRIMARY KEY,                -- the JWK kid
    algorithm   text NOT NULL,
    private_key bytea NOT NULL,                  -- PKCS#8, encrypted with the key-encryption key
    public_key  bytea NOT NULL,                  -- PKIX DER
    created_at  timestamptz NOT NULL,
    activate_at timestamptz NOT NULL,            -- signs from then on; published before
    expire_at   timestamptz                      -- leaves the JWKS then; NULL while open-ended
);

CREATE TABLE throttles (
    throttle_key    text PRIMARY KEY,            -- "account:<id>", "ip:<addr>"
    failures        integer NOT NULL,            -- failed attempts in the current window
    last_failure_at timestamptz NOT NULL,        -- a failure after the window starts the count again
    locked_until    timestamptz,                 -- NULL when not locked
    expires_at      timestamptz NOT NULL         -- window and lock both over: DeleteExpired may drop it
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
