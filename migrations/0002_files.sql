CREATE TABLE `file_ledger` (
	`key` text PRIMARY KEY NOT NULL,
	`source` text NOT NULL,
	`stream` text NOT NULL,
	`name` text NOT NULL,
	`format` text NOT NULL,
	`sha256` text NOT NULL,
	`size` integer NOT NULL,
	`origin` text NOT NULL,
	`status` text NOT NULL,
	`run_id` text NOT NULL,
	`rows` integer DEFAULT 0 NOT NULL,
	`bad_rows` integer DEFAULT 0 NOT NULL,
	`bytes` integer DEFAULT 0 NOT NULL,
	`parse_offset` integer DEFAULT 0 NOT NULL,
	`parse_line` integer DEFAULT 1 NOT NULL,
	`queued_offset` integer DEFAULT 0 NOT NULL,
	`steps` integer DEFAULT 0 NOT NULL,
	`state` text,
	`error` text,
	`landed_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `file_ledger_sha` ON `file_ledger` (`source`,`sha256`);--> statement-breakpoint
CREATE INDEX `file_ledger_status` ON `file_ledger` (`status`,`updated_at`);
