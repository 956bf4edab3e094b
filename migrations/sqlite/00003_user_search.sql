-- PostgreSQL adds trigram indexes for user search in this step. SQLite has
-- no trigram index for LIKE '%term%'; its search stays a scan, which is fine
-- at the embedded default's scale. The file keeps the numbers in lockstep.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
