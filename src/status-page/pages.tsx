import type { FleetStatus, NotConfiguredSource, RunSummary, StreamHealth } from "../ops/fleet";
import type { SourceReconciliation } from "../reconcile/status";
import { human } from "../ops/states";
import { CONDITION_COLOURS, STATE_COLOURS } from "./colours";
import { Layout } from "./layout";
import { Sparkline } from "./sparkline";

const ago = (iso: string | null, now: Date) =>
  iso ? `${human(Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000)))} ago` : "never";
const streamHref = (s: { source: string; stream: string }) => `/streams/${encodeURIComponent(s.source)}/${encodeURIComponent(s.stream)}`;

const SEVERITY = ["failing", "stale", "zero-record", "late", "paused", "fresh"];
/** What needs a human first: failing, then stale, zero-record, late, paused, fresh; by name within a state. */
const worstFirst = (streams: StreamHealth[]) => [...streams].sort((a, b) => SEVERITY.indexOf(a.state) - SEVERITY.indexOf(b.state));

function StatePill(props: { state: string; colour: string }) {
  return (
    <span class="pill" data-pill={props.state} style={`background-color:${props.colour}`}>
      {props.state}
    </span>
  );
}

function LastRun(props: { run: RunSummary | null; now: Date }) {
  if (!props.run) return <span class="muted">no runs</span>;
  const r = props.run;
  return (
    <span>
      {r.status}, {r.records} records, {ago(r.finished_at ?? r.started_at, props.now)}
    </span>
  );
}

/** What a source needs before it can run here (src/ops/not-configured-sources.ts), in one line. */
function NotConfiguredNote(props: { nc: NotConfiguredSource | undefined }) {
  if (!props.nc) return null;
  return (
    <div class="missing" data-missing={props.nc.source}>
      not configured: {props.nc.missing.length > 0 ? `set ${props.nc.missing.join(", ")}` : props.nc.error}
    </div>
  );
}

function StreamRow(props: { s: StreamHealth; now: Date; nc?: NotConfiguredSource }) {
  const s = props.s;
  const colour = STATE_COLOURS[s.state];
  return (
    <tr class="stream" data-stream={`${s.source}.${s.stream}`} data-state={s.state} style={`--state:${colour}`}>
      <td>
        <StatePill state={s.state} colour={colour} />
      </td>
      <td>
        <a href={streamHref(s)}>
          {s.source}.{s.stream}
        </a>
        <div class={s.state === "fresh" || s.state === "paused" ? "muted reason" : "why reason"}>{s.reason}</div>
        <NotConfiguredNote nc={props.nc} />
      </td>
      <td>{s.pattern}</td>
      <td>
        {s.lag_seconds === null ? "–" : human(s.lag_seconds)} / {human(s.slo_seconds)}
        {s.slo_origin === "declared" ? " (declared)" : ""}
      </td>
      <td>
        <LastRun run={s.last_run} now={props.now} />
      </td>
      <td>
        <Sparkline counts={s.records_per_hour} label={`${s.source}.${s.stream}`} now={props.now} />
      </td>
      <td>{s.dlq > 0 ? <strong>{s.dlq}</strong> : "0"}</td>
    </tr>
  );
}

function Banner(props: { fleet: FleetStatus }) {
  const ok = props.fleet.ok;
  return (
    <div class="banner" data-ok={ok ? "true" : "false"} style={`background-color:${ok ? STATE_COLOURS.fresh : STATE_COLOURS.stale}`}>
      {ok ? "Everything is fine." : `${props.fleet.problems.length} problem(s)`}
    </div>
  );
}

const LEDGER_COLOURS: Record<string, string> = {
  complete: STATE_COLOURS.fresh,
  partial: STATE_COLOURS.late,
  incomplete: STATE_COLOURS.stale,
  "unrecoverable range": STATE_COLOURS.failing,
  "not reconcilable": STATE_COLOURS.paused,
};

/** The completeness ledger of the last 7 days per reconcilable source: one coloured cell per day. */
function Completeness(props: { sources: SourceReconciliation[]; now: Date }) {
  const days = Array.from({ length: 7 }, (_, i) => new Date(props.now.getTime() - (6 - i) * 86_400_000).toISOString().slice(0, 10));
  const listed = props.sources.filter((s) => s.reconcilable);
  const unlisted = props.sources.filter((s) => !s.reconcilable);
  return (
    <>
      <h2>Reconciliation completeness, 7 days</h2>
      {listed.length === 0 ? (
        <p class="muted">No source can be reconciled.</p>
      ) : (
        <table id="completeness">
          <thead>
            <tr>
              <th>Source</th>
              <th>Reconciled to</th>
              <th>Last run</th>
              {days.map((d) => (
                <th>{d.slice(5)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {listed.map((s) => (
              <tr data-reconcile={s.source}>
                <td>{s.source}</td>
                <td>{s.reconciled_to ?? "never"}</td>
                <td>
                  {s.last_status ?? "–"}
                  {s.last_error ? <div class="err">{s.last_error}</div> : null}
                </td>
                {days.map((d) => {
                  const day = s.days.find((x) => x.day === d);
                  if (!day) return <td class="muted">–</td>;
                  const got = (day.received ?? 0) + (day.recovered ?? 0);
                  return (
                    <td
                      data-day={d}
                      data-ledger={day.status}
                      title={`${day.status}: ${got} of ${day.expected ?? "?"}, ${day.missing ?? 0} missing`}
                    >
                      <span class="pill" style={`background-color:${LEDGER_COLOURS[day.status] ?? STATE_COLOURS.paused}`}>
                        {day.expected === null ? day.status : `${got}/${day.expected}`}
                      </span>
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {unlisted.length > 0 ? (
        <p class="muted">Not reconcilable: {unlisted.map((s) => `${s.source} (${s.reason ?? "no listing"})`).join("; ")}</p>
      ) : null}
      {unlisted
        .filter((s) => s.volume?.flagged)
        .map((s) => (
          <p class="err" data-volume={s.source}>
            Low volume: {s.source} received {s.volume?.received} webhooks on {s.volume?.day}, {Math.round((s.volume?.share ?? 0) * 100)}% of
            its 7-day median ({s.volume?.median})
          </p>
        ))}
      {listed
        .filter((s) => s.unlisted?.volume?.flagged)
        .map((s) => (
          <p class="err" data-volume={s.source} title={`not listable: ${s.unlisted?.what}`}>
            Low volume: {s.source} received {s.unlisted?.volume?.received} unlisted webhooks on {s.unlisted?.volume?.day},{" "}
            {Math.round((s.unlisted?.volume?.share ?? 0) * 100)}% of their 7-day median ({s.unlisted?.volume?.median})
          </p>
        ))}
    </>
  );
}

/**
 * Sources that cannot run here and what to set. Open when one of them has streams on this page
 * (the operator uses it); closed otherwise, since a deployment uses only some of the registry.
 */
function NotConfigured(props: { fleet: FleetStatus }) {
  const list = props.fleet.not_configured;
  if (list.length === 0) return null;
  const used = new Set(props.fleet.streams.map((s) => s.source));
  return (
    <details id="not-configured" open={list.some((n) => used.has(n.source))}>
      <summary>
        {list.length} source(s) not configured here: {list.map((n) => n.source).join(", ")}
      </summary>
      <table>
        <thead>
          <tr>
            <th>Source</th>
            <th>Set</th>
            <th>Why</th>
          </tr>
        </thead>
        <tbody>
          {list.map((n) => (
            <tr data-not-configured={n.source}>
              <td>{n.source}</td>
              <td>
                {n.missing.map((v, i) => (
                  <>
                    {i > 0 ? ", " : ""}
                    <code>{v}</code>
                  </>
                ))}
              </td>
              <td class="muted">{n.error}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

export function OverviewPage(props: { fleet: FleetStatus; now: Date; reconciliation?: SourceReconciliation[] }) {
  const { fleet, now } = props;
  return (
    <Layout title="Loading Dock — status" refresh loggedIn>
      <Banner fleet={fleet} />
      {fleet.problems.length > 0 ? (
        <ul class="problems">
          {fleet.problems.map((p) => (
            <li>{p}</li>
          ))}
        </ul>
      ) : null}
      <h2>Streams</h2>
      <table id="streams">
        <thead>
          <tr>
            <th>State</th>
            <th>Stream</th>
            <th>Pattern</th>
            <th>Lag / SLO</th>
            <th>Last run</th>
            <th>Records per hour, last 7 days (UTC)</th>
            <th>DLQ</th>
          </tr>
        </thead>
        <tbody>
          {worstFirst(fleet.streams).map((s) => (
            <StreamRow s={s} now={now} nc={fleet.not_configured.find((n) => n.source === s.source)} />
          ))}
        </tbody>
      </table>
      <NotConfigured fleet={fleet} />
      {fleet.sidecars.length > 0 ? (
        <>
          <h2>CDC sidecars</h2>
          <table id="sidecars">
            <thead>
              <tr>
                <th>Condition</th>
                <th>Source / slot</th>
                <th>Slot lag</th>
                <th>wal_status</th>
                <th>safe_wal_size</th>
                <th>Heartbeat</th>
                <th>Reported</th>
              </tr>
            </thead>
            <tbody>
              {fleet.sidecars.map((s) => (
                <tr data-sidecar={`${s.source}/${s.slot}`} data-condition={s.condition}>
                  <td>
                    <StatePill state={s.condition} colour={CONDITION_COLOURS[s.condition] ?? STATE_COLOURS.stale} />
                    <div class="muted">{s.reason}</div>
                  </td>
                  <td>
                    {s.source} / {s.slot}
                  </td>
                  <td>{s.slot_lag_bytes === null ? "–" : `${s.slot_lag_bytes} B`}</td>
                  <td>{s.wal_status ?? "–"}</td>
                  <td>{s.safe_wal_size === null ? "–" : `${s.safe_wal_size} B`}</td>
                  <td>{ago(s.heartbeat_at, now)}</td>
                  <td>{ago(s.reported_at, now)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      <h2>Dead-letter queues</h2>
      <p id="dlq">
        {Object.entries(fleet.dlq)
          .map(([q, n]) => `${q}: ${n}`)
          .join(" · ")}
      </p>
      <h2>Reconciliation gaps</h2>
      {fleet.gaps.length === 0 ? (
        <p id="gaps" class="muted">
          No open gaps in the last 30 days.
        </p>
      ) : (
        <table id="gaps">
          <thead>
            <tr>
              <th>Source</th>
              <th>Day</th>
              <th>Missing</th>
              <th>Status</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {fleet.gaps.map((g) => (
              <tr data-gap={`${g.source}/${g.day}`}>
                <td>{g.source}</td>
                <td>{g.day}</td>
                <td>{g.missing}</td>
                <td>{g.status}</td>
                <td class="err">{g.detail ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.reconciliation ? <Completeness sources={props.reconciliation} now={now} /> : null}
      <p class="muted">Generated {fleet.generated_at}. JSON: GET /status.</p>
    </Layout>
  );
}

export function StreamPage(props: {
  s: StreamHealth;
  nc?: NotConfiguredSource;
  runs: RunSummary[];
  letters: { id: string; queue: string; attempts: number; parked_at: string; body_head: string }[];
  now: Date;
}) {
  const { s, now } = props;
  return (
    <Layout title={`${s.source}.${s.stream} — Loading Dock`} refresh loggedIn>
      <h1 id="stream-title">
        {s.source}.{s.stream} <StatePill state={s.state} colour={STATE_COLOURS[s.state]} />
      </h1>
      <p id="reason" class={s.state === "fresh" || s.state === "paused" ? "reason" : "why reason"}>
        {s.reason}
      </p>
      <NotConfiguredNote nc={props.nc} />
      <table id="facts">
        <tbody>
          <tr>
            <th>Pattern</th>
            <td>{s.pattern}</td>
          </tr>
          <tr>
            <th>Lag / SLO</th>
            <td>
              {s.lag_seconds === null ? "–" : human(s.lag_seconds)} / {human(s.slo_seconds)} ({s.slo_origin}); zero-record after{" "}
              {s.zero_record_runs} empty runs
            </td>
          </tr>
          <tr>
            <th>Last record</th>
            <td>{s.last_received_at ? `${s.last_received_at} (${ago(s.last_received_at, now)})` : "never"}</td>
          </tr>
          <tr>
            <th>Last successful run</th>
            <td>{s.last_success_at ?? "never"}</td>
          </tr>
          <tr>
            <th>Records (total)</th>
            <td>{s.records_total}</td>
          </tr>
          <tr>
            <th>Records per run (newest first)</th>
            <td>{s.run_records.join(", ") || "–"}</td>
          </tr>
          <tr>
            <th>Records per hour, last 7 days (UTC)</th>
            <td>
              <Sparkline counts={s.records_per_hour} width={504} height={60} label={`${s.source}.${s.stream}`} now={now} />
            </td>
          </tr>
        </tbody>
      </table>
      <h2>Recent runs</h2>
      {props.runs.length === 0 ? (
        <p class="muted">No runs.</p>
      ) : (
        <table id="runs">
          <thead>
            <tr>
              <th>Run</th>
              <th>Status</th>
              <th>Started</th>
              <th>Finished</th>
              <th>Records</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {props.runs.map((r) => (
              <tr data-run={r.id} data-status={r.status}>
                <td>{r.id}</td>
                <td>{r.status}</td>
                <td>{r.started_at}</td>
                <td>{r.finished_at ?? "–"}</td>
                <td>{r.records}</td>
                <td class="err">{r.error ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.letters.length > 0 ? (
        <>
          <h2>Parked dead letters</h2>
          <table id="letters">
            <tbody>
              {props.letters.map((l) => (
                <tr>
                  <td>{l.id}</td>
                  <td>{l.queue}</td>
                  <td>{l.attempts} attempts</td>
                  <td>{l.parked_at}</td>
                  <td class="err">{l.body_head}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </Layout>
  );
}

export function LoginPage(props: { error?: string }) {
  return (
    <Layout title="Loading Dock — log in">
      <form class="login" method="post" action="/login">
        <label for="token">Admin token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required />
        {props.error ? <p class="err">{props.error}</p> : null}
        <button type="submit">Log in</button>
      </form>
    </Layout>
  );
}
