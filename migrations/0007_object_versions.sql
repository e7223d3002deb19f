-- Per-object high-water mark for record-level reconciliation (docs/reconciliation.md):
-- one row per object of a source's tracked object streams, the newest version the raw writer wrote.
-- WITHOUT ROWID: the primary key is the table's only B-tree (no second index to keep).
CREATE TABLE `object_versions` (
	`source` text NOT NULL,
	`stream` text NOT NULL,
	`key` text NOT NULL,
	`version_ms` integer NOT NULL,
	`version` text NOT NULL,
	`pattern` text NOT NULL,
	`written_at` text NOT NULL,
	PRIMARY KEY(`source`, `stream`, `key`)
) WITHOUT ROWID;
--> statement-breakpoint
-- The ledger speaks in two units: `event` (listed events vs receipts) and `record` (listed objects vs held versions).
ALTER TABLE `reconcile_ledger` ADD `unit` text DEFAULT 'event' NOT NULL;
