/** A file that can never be parsed as configured: the run fails loudly, the original stays in files/. */
export class FileUnreadable extends Error {}

/** Where a parse step got to, as absolute totals for the ledger and the run. */
export interface StepOutcome {
  to: number;
  line: number;
  rows: number;
  badRows: number;
  done: boolean;
}
