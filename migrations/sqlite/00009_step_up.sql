-- Two factors by client and by request: a client may require them of
-- everyone who signs in to it (idp client add --require-mfa), and a request
-- may ask for them (acr_values=mfa, step-up) — stored with the request so
-- the sign-in pages can honour it.

-- +goose Up
ALTER TABLE clients ADD COLUMN require_mfa BOOLEAN NOT NULL DEFAULT FALSE; -- every sign-in to it needs two factors
ALTER TABLE auth_requests ADD COLUMN acr_values TEXT NOT NULL DEFAULT '[]'; -- JSON array of the requested acr values

-- +goose Down
ALTER TABLE auth_requests DROP COLUMN acr_values;
ALTER TABLE clients DROP COLUMN require_mfa;
