import type { FleetStatus, RunSummary, StreamHealth } from "../ops/fleet";
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

function StreamRow(props: { s: StreamHealth; now: Date }) {
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
        <div class="muted">{s.reason}</div>
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
        <Sparkline counts={s.records_per_hour} label={`${s.source}.${s.stream}`} />
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

export function OverviewPage(props: { fleet: FleetStatus; now: Date }) {
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
            <th>Records per hour, 7 days</th>
            <th>DLQ</th>
          </tr>
        </thead>
        <tbody>
          {worstFirst(fleet.streams).map((s) => (
            <StreamRow s={s} now={now} />
          ))}
        </tbody>
      </table>
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
                  <td>{s.slotLagBytes === null ? "–" : `${s.slotLagBytes} B`}</td>
                  <td>{s.walStatus ?? "–"}</td>
                  <td>{s.safeWalSize === null ? "–" : `${s.safeWalSize} B`}</td>
                  <td>{ago(s.heartbeatAt, now)}</td>
                  <td>{ago(s.reportedAt, now)}</td>
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
      <p class="muted">Generated {fleet.generated_at}. JSON: GET /status.</p>
    </Layout>
  );
}

export function StreamPage(props: {
  s: StreamHealth;
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
      <p>{s.reason}</p>
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
            <td>
              {s.last_received_at ?? "never"} ({ago(s.last_received_at, now)})
            </td>
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
            <th>Records per hour, 7 days</th>
            <td>
              <Sparkline counts={s.records_per_hour} width={504} height={48} label={`${s.source}.${s.stream}`} />
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
