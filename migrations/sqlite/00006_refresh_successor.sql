-- A rotated refresh token remembers its successor, so that a client that
-- retries a refresh it never saw the answer to (a network failure, a
-- database outage) gets a new successor in place of the unused one instead
-- of a family revocation (see RotateRefreshToken).

-- +goose Up
ALTER TABLE refresh_tokens ADD COLUMN successor_hash TEXT; -- hash of the token this one was rotated into; NULL until rotated

-- +goose Down
ALTER TABLE refresh_tokens DROP COLUMN successor_hash;
