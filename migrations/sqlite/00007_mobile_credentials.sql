-- Clinician mobile credentials: the PIN tied to the phone number it was
-- activated for, the SMS codes that activate it or confirm a new number,
-- which clients sign in by phone, and what a phone change must revoke
-- (sessions signed in by phone; token families of phone clients) and the
-- account page lists (device, last use). Types as in 00001: TIMESTAMP
-- columns hold integer microseconds; NULL means "not set" wherever the Go
-- field's zero value means that.

-- +goose Up
CREATE TABLE mobile_credentials (
    user_id           TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    state             TEXT NOT NULL,          -- none | pending | active; "locked" is active with locked_until ahead
    pin_hash          TEXT NOT NULL,          -- argon2id PHC of the PIN; '' when none is set
    phone             TEXT NOT NULL,          -- E.164 number confirmed by SMS (and the PIN is bound to); '' when none
    phone_verified_at TIMESTAMP,          -- when phone was confirmed by an SMS code; NULL when never
    activated_at      TIMESTAMP,          -- when the current PIN was set; NULL without one
    last_sign_in_at   TIMESTAMP,
    pin_failures      INTEGER NOT NULL,       -- wrong PINs in a row, counted before the check; a right one resets it
    locked_until      TIMESTAMP,          -- no PIN is checked before this; NULL when not locked
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);

CREATE TABLE mobile_codes (
    id         TEXT PRIMARY KEY,              -- random; the code itself is never stored
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,                 -- activation | phone_change: bound at creation
    phone      TEXT NOT NULL,                 -- E.164 number the code was sent to
    code_hash  TEXT NOT NULL,                 -- keyed HMAC of the code, bound to user, purpose and phone
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,        -- unusable after this
    tries      INTEGER NOT NULL,              -- codes entered against it; never beyond the limit
    used_at    TIMESTAMP,                 -- NULL until used: single use
    voided_at  TIMESTAMP                  -- set when replaced, exhausted or killed by a phone change
);
CREATE INDEX mobile_codes_user_idx ON mobile_codes (user_id, purpose);
CREATE INDEX mobile_codes_expires_idx ON mobile_codes (expires_at);

-- email | phone: a phone client's sign-in page asks for number and PIN, and
-- a phone change revokes every token family issued to such clients.
ALTER TABLE clients ADD COLUMN sign_in_method TEXT NOT NULL DEFAULT 'email';
-- email | phone: how the browser session was signed in; phone sessions end with the phone.
ALTER TABLE sessions ADD COLUMN sign_in_method TEXT NOT NULL DEFAULT 'email';
ALTER TABLE sessions ADD COLUMN device TEXT NOT NULL DEFAULT '';       -- e.g. "Chrome on Android", for the account page
ALTER TABLE refresh_tokens ADD COLUMN device TEXT NOT NULL DEFAULT ''; -- the app that holds the family; kept through rotation

-- +goose Down
ALTER TABLE refresh_tokens DROP COLUMN device;
ALTER TABLE sessions DROP COLUMN device;
ALTER TABLE sessions DROP COLUMN sign_in_method;
ALTER TABLE clients DROP COLUMN sign_in_method;
DROP TABLE mobile_codes;
DROP TABLE mobile_credentials;
