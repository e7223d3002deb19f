CREATE TABLE `stream_slos` (
	`source` text NOT NULL,
	`stream` text NOT NULL,
	`max_silence_minutes` integer NOT NULL,
	`zero_record_runs` integer DEFAULT 3 NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`source`, `stream`)
);
--> statement-breakpoint
CREATE TABLE `source_controls` (
	`source` text PRIMARY KEY NOT NULL,
	`paused` integer NOT NULL,
	`reason` text,
	`changed_by` text NOT NULL,
	`changed_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `alert_state` (
	`subject` text PRIMARY KEY NOT NULL,
	`condition` text NOT NULL,
	`detail` text,
	`since` text NOT NULL,
	`alerted_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `admin_audit` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` text NOT NULL,
	`actor` text NOT NULL,
	`claimed_actor` text,
	`method` text NOT NULL,
	`path` text NOT NULL,
	`action` text NOT NULL,
	`params` text,
	`status` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `admin_audit_at` ON `admin_audit` (`at`);--> statement-breakpoint
CREATE TABLE `sidecar_health` (
	`source` text NOT NULL,
	`slot` text NOT NULL,
	`state` text,
	`slot_lag_bytes` integer,
	`wal_status` text,
	`safe_wal_size` integer,
	`heartbeat_at` text,
	`durable_lsn` text,
	`error` text,
	`reported_at` text NOT NULL,
	PRIMARY KEY(`source`, `slot`)
);
--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`queue` text NOT NULL,
	`source` text,
	`stream` text,
	`body` text NOT NULL,
	`attempts` integer NOT NULL,
	`parked_at` text NOT NULL,
	`redriven_at` text
);
--> statement-breakpoint
CREATE INDEX `dead_letters_open` ON `dead_letters` (`queue`,`redriven_at`);
