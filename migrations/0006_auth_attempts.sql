-- Admin-token attempts per client (CF-Connecting-IP; an IPv6 address counts by its /64) that have
-- not yet been proven right: POST /login, the status pages and the admin API count an attempt
-- before checking the token and clear the row when it is right. Past MAX attempts in a window the
-- client gets 429 with Retry-After until the window (which began at `window_start`, ms) ends.
CREATE TABLE `auth_attempts` (
	`client` text PRIMARY KEY NOT NULL,
	`attempts` integer NOT NULL,
	`window_start` integer NOT NULL
);
