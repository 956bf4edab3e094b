-- One-time links record the address they were mailed to (sent_to). An
-- invitation or a password reset works only while sent_to is still the
-- user's email. An email change link confirms sent_to, the new address;
-- its data becomes the login email the change was requested from, which
-- must still be the user's when the link is used.
--
-- Links open now are bound to the user's email as it is, except those sent
-- before the user's record last changed: they may have gone to an address
-- the user no longer has, so they are voided (a new one is a request away).

-- +goose Up
ALTER TABLE one_time_tokens ADD COLUMN sent_to text NOT NULL DEFAULT '';
UPDATE one_time_tokens
SET sent_to = data, data = (SELECT email FROM users WHERE users.id = one_time_tokens.user_id)
WHERE purpose = 'email_change';
UPDATE one_time_tokens
SET sent_to = (SELECT email FROM users WHERE users.id = one_time_tokens.user_id)
WHERE purpose <> 'email_change';
UPDATE one_time_tokens
SET voided_at = (SELECT updated_at FROM users WHERE users.id = one_time_tokens.user_id)
WHERE used_at IS NULL AND voided_at IS NULL
  AND created_at < (SELECT updated_at FROM users WHERE users.id = one_time_tokens.user_id);

-- +goose Down
UPDATE one_time_tokens SET data = sent_to WHERE purpose = 'email_change';
ALTER TABLE one_time_tokens DROP COLUMN sent_to;
