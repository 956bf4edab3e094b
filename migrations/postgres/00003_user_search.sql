-- Trigram indexes so that ListUsers' substring search (name_key, email_key,
-- phone LIKE '%term%') uses an index instead of reading every row: a term
-- that matches nobody costs a few index pages, not a scan of the table.
-- pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may
-- create it.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_name_key_trgm ON users USING gin (name_key gin_trgm_ops);
CREATE INDEX users_email_key_trgm ON users USING gin (email_key gin_trgm_ops);
CREATE INDEX users_phone_trgm ON users USING gin (phone gin_trgm_ops);

-- +goose Down
DROP INDEX users_phone_trgm;
DROP INDEX users_email_key_trgm;
DROP INDEX users_name_key_trgm;
