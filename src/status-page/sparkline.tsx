/** Records per hour as an inline SVG polyline (no script, no external asset); the title carries the numbers. */
export function Sparkline(props: { counts: number[]; width?: number; height?: number; label: string }) {
  const width = props.width ?? 168;
  const height = props.height ?? 24;
  const max = Math.max(1, ...props.counts);
  const step = props.counts.length > 1 ? width / (props.counts.length - 1) : width;
  const points = props.counts.map((c, i) => `${(i * step).toFixed(1)},${(height - 1 - (c / max) * (height - 2)).toFixed(1)}`).join(" ");
  const total = props.counts.reduce((a, b) => a + b, 0);
  return (
    <svg class="spark" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={props.label}>
      <title>{`${props.label}: ${total} records in 7 days, peak ${max === 1 && total === 0 ? 0 : max}/h`}</title>
      <polyline fill="none" stroke="#0969da" stroke-width="1" points={points} />
    </svg>
  );
}
