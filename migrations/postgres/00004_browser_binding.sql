-- A pending authorization request belongs to the browser that started it:
-- /authorize gives the browser a random value in a cookie and the request
-- keeps only its hash; the sign-in pages and the callback that mints the
-- code compare it. And the clients a browser session has been used with, so
-- silent single sign-on into a new client (or into scope admin) asks first.

-- +goose Up
ALTER TABLE auth_requests ADD COLUMN browser_hash text NOT NULL DEFAULT ''; -- SHA-256 of the browser's binding cookie

CREATE TABLE session_clients (
    session_id text NOT NULL REFERENCES sessions (id_hash) ON DELETE CASCADE,
    client_id  text NOT NULL,                    -- a client this session completed a sign-in for
    PRIMARY KEY (session_id, client_id)
);

-- +goose Down
DROP TABLE session_clients;
ALTER TABLE auth_requests DROP COLUMN browser_hash;
