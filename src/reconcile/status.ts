import type { SourceDefinition } from "../sources/define-source";
import { isReconcilable, isRecordListing } from "./types";
import { type UnlistedVolume, unlistedVolume } from "./unlisted-volume";
import { type VolumeCheck, volumeCheck } from "./volume";

const LEDGER_DAYS = 14;

export interface LedgerDay {
  day: string;
  status: string;
  expected: number | null;
  received: number | null;
  recovered: number | null;
  missing: number | null;
  window_from: string | null;
  window_to: string | null;
  run_id: string | null;
  detail: string | null;
  /** `event`: expected/received count events and receipts; `record`: listed objects and those held. */
  unit: string;
}

export interface SourceReconciliation {
  source: string;
  reconcilable: boolean;
  /** Why not, for a source without a listing. */
  reason?: string;
  history_days?: number;
  reconciled_to: string | null;
  last_run_id: string | null;
  last_status: string | null;
  last_error: string | null;
  last_finished_at: string | null;
  unrecoverable: { from: string; to: string } | null;
  /** The completeness ledger of the last 14 days, newest first. */
  days: LedgerDay[];
  /** Not reconcilable: yesterday's webhook count against the source's trailing 7-day median (flagged below 30%). */
  volume?: VolumeCheck | null;
  /** Reconcilable, but some of its webhooks cannot be listed: those webhooks' own volume check (flagged below 30%). */
  unlisted?: UnlistedVolume;
}

/** For GET /status: every webhook source's reconciliation state and its completeness ledger. */
export async function reconciliationStatus(
  d1: D1Database,
  sources: readonly SourceDefinition[],
  now = new Date(),
): Promise<SourceReconciliation[]> {
  const since = new Date(now.getTime() - LEDGER_DAYS * 86_400_000).toISOString().slice(0, 10);
  const [states, ledger] = await d1.batch([
    d1.prepare("SELECT * FROM reconcile_state"),
    d1.prepare("SELECT * FROM reconcile_ledger WHERE day >= ?1 ORDER BY source, day DESC").bind(since),
  ]);
  const stateOf = new Map((states?.results ?? []).map((r) => [(r as { source: string }).source, r as Record<string, string | null>]));
  const today = now.toISOString().slice(0, 10);
  const unlistedOf = new Map<string, UnlistedVolume>();
  for (const s of sources) {
    const spec = s.reconcile;
    if (s.webhook && isRecordListing(spec) && spec.unlistedWebhooks)
      unlistedOf.set(s.name, await unlistedVolume(d1, s.name, spec.objects.streams, spec.unlistedWebhooks, now));
  }
  const daysOf = new Map<string, LedgerDay[]>();
  for (const row of (ledger?.results ?? []) as (LedgerDay & { source: string })[]) {
    const { source, ...day } = row;
    const list = daysOf.get(source) ?? [];
    list.push({
      day: day.day,
      status: day.status,
      expected: day.expected,
      received: day.received,
      recovered: day.recovered,
      missing: day.missing,
      window_from: day.window_from,
      window_to: day.window_to,
      run_id: day.run_id,
      detail: day.detail,
      unit: day.unit ?? "event",
    });
    daysOf.set(source, list);
  }
  return sources
    .filter((s) => s.webhook)
    .map((s) => {
      const st = stateOf.get(s.name);
      const spec = s.reconcile;
      return {
        source: s.name,
        reconcilable: isReconcilable(spec),
        ...(isReconcilable(spec) ? { history_days: spec.historyDays } : { reason: spec?.unsupported ?? "no listing declared" }),
        reconciled_to: st?.reconciled_to ?? null,
        last_run_id: st?.last_run_id ?? null,
        last_status: st?.last_status ?? null,
        last_error: st?.last_error ?? null,
        last_finished_at: st?.last_finished_at ?? null,
        unrecoverable: st?.unrecoverable_from && st.unrecoverable_to ? { from: st.unrecoverable_from, to: st.unrecoverable_to } : null,
        days: daysOf.get(s.name) ?? [],
        ...(isReconcilable(spec) ? {} : { volume: volumeCheck(daysOf.get(s.name) ?? [], today) }),
        ...(unlistedOf.has(s.name) ? { unlisted: unlistedOf.get(s.name) } : {}),
      };
    });
}
