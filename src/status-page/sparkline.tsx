const HOUR_MS = 3_600_000;

/** 1234 → "1.2k", 56000 → "56k": short enough for an axis label. */
export const compact = (n: number) => (n >= 10_000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n));
const hourLabel = (ms: number) => `${new Date(ms).toISOString().slice(0, 13).replace("T", " ")}:00 UTC`;
const dayLabel = (ms: number) => new Date(ms).toUTCString().slice(0, 11);

/**
 * Records per hour as an inline SVG (no script, no external asset) that reads on its own: the peak
 * and 0 on the y axis in records/h, the span on the x axis (7 days ago → now, a faint line at each
 * UTC midnight), a tooltip per day with its total and peak, and a title with the numbers. The last
 * count is the current (partial) hour; `now` places the hours on the calendar.
 */
export function Sparkline(props: { counts: number[]; label: string; now: Date; width?: number; height?: number }) {
  const counts = props.counts;
  const n = Math.max(1, counts.length);
  const plotW = props.width ?? 168;
  const plotH = props.height ?? 24;
  const left = 40;
  const top = 5;
  const bottom = 13;
  const width = left + plotW + 6;
  const height = top + plotH + bottom;
  const peak = Math.max(0, ...counts);
  const total = counts.reduce((a, b) => a + b, 0);
  const lastHour = Math.floor(props.now.getTime() / HOUR_MS) * HOUR_MS;
  const firstHour = lastHour - (n - 1) * HOUR_MS;
  const days = Math.round((n * HOUR_MS) / 86_400_000);
  const x = (i: number) => left + (n > 1 ? (i * plotW) / (n - 1) : 0);
  const y = (c: number) => top + plotH - (c / (peak || 1)) * plotH;
  const base = top + plotH;
  const points = counts.map((c, i) => `${x(i).toFixed(1)},${y(c).toFixed(1)}`).join(" ");
  const peakAt = counts.indexOf(peak);

  // The hours of each UTC day, for its gridline and its tooltip.
  const dayRuns: { from: number; to: number; start: number }[] = [];
  for (let i = 0; i < counts.length; i++) {
    const start = firstHour + i * HOUR_MS;
    const last = dayRuns.at(-1);
    if (!last || start % 86_400_000 === 0) dayRuns.push({ from: i, to: i, start });
    else last.to = i;
  }
  const half = n > 1 ? plotW / (n - 1) / 2 : 0;
  const summary =
    total === 0
      ? `${props.label}: no records in the last ${days} days (records per hour, ${hourLabel(firstHour)} to now)`
      : `${props.label}: ${total} records in the last ${days} days (records per hour, ${hourLabel(firstHour)} to now); ` +
        `peak ${peak}/h at ${hourLabel(firstHour + peakAt * HOUR_MS)}; ${counts.at(-1) ?? 0} so far this hour`;

  return (
    <svg class="spark" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={summary}>
      <title>{summary}</title>
      {dayRuns.slice(1).map((d) => (
        <line class="day" x1={x(d.from).toFixed(1)} x2={x(d.from).toFixed(1)} y1={top} y2={base} stroke="#d0d7de" stroke-width="1" />
      ))}
      <line x1={left} x2={left + plotW} y1={base} y2={base} stroke="#8c959f" stroke-width="1" />
      <line x1={left} x2={left} y1={top} y2={base} stroke="#8c959f" stroke-width="1" />
      <polygon points={`${x(0).toFixed(1)},${base} ${points} ${x(n - 1).toFixed(1)},${base}`} fill="#0969da" fill-opacity="0.15" />
      <polyline fill="none" stroke="#0969da" stroke-width="1.2" points={points} />
      {peak > 0 ? (
        <text class="y-max" x={left - 3} y={top + 4} text-anchor="end" font-size="9" fill="#57606a">
          {`${compact(peak)}/h`}
        </text>
      ) : (
        <text class="empty" x={left + plotW / 2} y={top + plotH / 2 + 3} text-anchor="middle" font-size="9" fill="#8c959f">
          no records
        </text>
      )}
      {plotW >= 300
        ? dayRuns
            .slice(1)
            .filter((d) => x(d.from) - left > 40 && left + plotW - x(d.from) > 30)
            .map((d) => (
              <text class="x-day" x={x(d.from).toFixed(1)} y={height - 2} text-anchor="middle" font-size="9" fill="#8c959f">
                {dayLabel(d.start).slice(0, 3) + dayLabel(d.start).slice(4, 8)}
              </text>
            ))
        : null}
      <text class="y-min" x={left - 3} y={base} text-anchor="end" font-size="9" fill="#57606a">
        0
      </text>
      <text class="x-from" x={left} y={height - 2} font-size="9" fill="#57606a">
        {`${days}d ago`}
      </text>
      <text class="x-to" x={left + plotW} y={height - 2} text-anchor="end" font-size="9" fill="#57606a">
        now
      </text>
      {dayRuns.map((d) => {
        const slice = counts.slice(d.from, d.to + 1);
        const sum = slice.reduce((a, b) => a + b, 0);
        return (
          <rect
            class="day-hover"
            x={(x(d.from) - half).toFixed(1)}
            y={top}
            width={(x(d.to) - x(d.from) + 2 * half).toFixed(1)}
            height={plotH}
            fill="transparent"
          >
            <title>{`${dayLabel(d.start)}: ${sum} records, peak ${Math.max(0, ...slice)}/h`}</title>
          </rect>
        );
      })}
    </svg>
  );
}
