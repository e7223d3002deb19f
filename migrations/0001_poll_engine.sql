CREATE TABLE `poll_schedule` (
	`source` text NOT NULL,
	`stream` text NOT NULL,
	`pattern` text NOT NULL,
	`next_due_at` text NOT NULL,
	`active_run_id` text,
	`heartbeat_at` text,
	`last_run_id` text,
	`last_status` text,
	`last_finished_at` text,
	`last_error` text,
	PRIMARY KEY(`source`, `stream`, `pattern`)
);
--> statement-breakpoint
CREATE INDEX `poll_schedule_due` ON `poll_schedule` (`pattern`,`next_due_at`);
