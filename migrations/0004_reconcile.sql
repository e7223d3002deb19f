CREATE TABLE `reconcile_state` (
	`source` text PRIMARY KEY NOT NULL,
	`reconciled_to` text,
	`active_run_id` text,
	`heartbeat_at` text,
	`last_run_id` text,
	`last_status` text,
	`last_error` text,
	`last_finished_at` text,
	`unrecoverable_from` text,
	`unrecoverable_to` text,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `reconcile_events` (
	`source` text NOT NULL,
	`event_id` text NOT NULL,
	`occurred_at` text NOT NULL,
	`outcome` text NOT NULL,
	`run_id` text NOT NULL,
	PRIMARY KEY(`source`, `event_id`)
);
--> statement-breakpoint
CREATE INDEX `reconcile_events_time` ON `reconcile_events` (`source`,`occurred_at`);--> statement-breakpoint
CREATE TABLE `reconcile_ledger` (
	`source` text NOT NULL,
	`day` text NOT NULL,
	`expected` integer,
	`received` integer,
	`recovered` integer,
	`missing` integer,
	`window_from` text,
	`window_to` text,
	`run_id` text,
	`status` text NOT NULL,
	`detail` text,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`source`, `day`)
);
