CREATE TABLE `cursors` (
	`source` text NOT NULL,
	`stream` text NOT NULL,
	`cursor` text NOT NULL,
	`run_id` text,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`source`, `stream`)
);
--> statement-breakpoint
CREATE TABLE `dedupe_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`expires_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `dedupe_keys_expires` ON `dedupe_keys` (`expires_at`);--> statement-breakpoint
CREATE TABLE `raw_objects` (
	`key` text PRIMARY KEY NOT NULL,
	`source` text NOT NULL,
	`stream` text NOT NULL,
	`pattern` text NOT NULL,
	`records` integer NOT NULL,
	`bytes` integer NOT NULL,
	`written_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `raw_objects_stream_time` ON `raw_objects` (`source`,`stream`,`written_at`);--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`source` text NOT NULL,
	`stream` text NOT NULL,
	`pattern` text NOT NULL,
	`status` text NOT NULL,
	`started_at` text NOT NULL,
	`finished_at` text,
	`records` integer DEFAULT 0 NOT NULL,
	`pages` integer DEFAULT 0 NOT NULL,
	`cursor_from` text,
	`cursor_to` text,
	`error` text,
	`state` text
);
--> statement-breakpoint
CREATE INDEX `runs_stream_time` ON `runs` (`source`,`stream`,`started_at`);--> statement-breakpoint
CREATE INDEX `runs_status` ON `runs` (`status`);--> statement-breakpoint
CREATE TABLE `stream_stats` (
	`source` text NOT NULL,
	`stream` text NOT NULL,
	`records` integer DEFAULT 0 NOT NULL,
	`objects` integer DEFAULT 0 NOT NULL,
	`bytes` integer DEFAULT 0 NOT NULL,
	`first_received_at` text NOT NULL,
	`last_received_at` text NOT NULL,
	`last_written_at` text NOT NULL,
	PRIMARY KEY(`source`, `stream`)
);
--> statement-breakpoint
CREATE TABLE `webhook_receipts` (
	`source` text NOT NULL,
	`event_id` text NOT NULL,
	`dock_id` text NOT NULL,
	`stream` text NOT NULL,
	`pattern` text NOT NULL,
	`received_at` text NOT NULL,
	PRIMARY KEY(`source`, `event_id`)
);
--> statement-breakpoint
CREATE INDEX `webhook_receipts_time` ON `webhook_receipts` (`source`,`received_at`);