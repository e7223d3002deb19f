-- The newest refresh token of each OAuth grant, for vendors that rotate it on every refresh
-- (single-use refresh tokens). `grant_key` is a digest of the token URL, the client id and the
-- refresh token the operator configured (a new secret starts a new chain); `sealed` is the newest
-- token encrypted (AES-GCM) with a key derived from the configured secrets, which D1 never holds.
CREATE TABLE `oauth_refresh_tokens` (
	`grant_key` text PRIMARY KEY NOT NULL,
	`sealed` text NOT NULL,
	`updated_at` text NOT NULL
);
