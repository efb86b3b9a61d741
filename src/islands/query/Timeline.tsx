import type { MinuteBucket } from '../../lib/query/summary.ts';

interface Props {
  buckets: MinuteBucket[];
  /** Names of the highlighted identities, for the legend. */
  highlighted: string[];
}

const hhmm = (iso: string) => iso.slice(11, 16);

/**
 * Events per minute as bars; the highlighted identities' share is drawn striped (not only in
 * another colour), and the same facts are written out for screen readers.
 */
export function Timeline({ buckets, highlighted }: Props) {
  if (buckets.length === 0) return <p className="muted">No timestamps to chart.</p>;
  const max = Math.max(...buckets.map((b) => b.count), 1);
  const width = 640;
  const height = 120;
  // At least 12 slots: a minute or two of events (a seeded incident) made bars as wide as the chart.
  const bar = width / Math.max(buckets.length, 12);
  const first = hhmm(buckets[0]!.minute);
  const last = hhmm(buckets[buckets.length - 1]!.minute);
  const hot = buckets.filter((b) => b.highlighted > 0);
  const busiest = buckets.reduce((a, b) => (b.count > a.count ? b : a));
  return (
    <figure className="qp-timeline">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby="qp-timeline-caption" preserveAspectRatio="none">
        <defs>
          <pattern id="qp-stripes" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="6" height="6" style={{ fill: 'var(--qp-hot)' }} />
            <line x1="0" y1="0" x2="0" y2="6" strokeWidth="2" style={{ stroke: 'var(--surface)' }} />
          </pattern>
        </defs>
        {buckets.map((b, i) => {
          const h = (b.count / max) * height;
          const hh = (b.highlighted / max) * height;
          return (
            <g key={b.minute}>
              <title>{`${hhmm(b.minute)} UTC: ${b.count} events${b.highlighted ? `, ${b.highlighted} highlighted` : ''}`}</title>
              <rect x={i * bar} y={height - h} width={Math.max(bar - 1, 1)} height={h} style={{ fill: 'var(--qp-bar)' }} />
              {hh > 0 && <rect x={i * bar} y={height - Math.max(hh, 6)} width={Math.max(bar - 1, 1)} height={Math.max(hh, 6)} fill="url(#qp-stripes)" />}
            </g>
          );
        })}
      </svg>
      {/* The axis in HTML: the stretched SVG (preserveAspectRatio none) squeezed its text on a phone. */}
      <div className="qp-axis" aria-hidden="true" style={{ width: `${((buckets.length * bar) / width) * 100}%` }}>
        <span>{buckets.length === 1 ? `${first} UTC` : first}</span>
        {buckets.length > 1 && <span>{last} UTC</span>}
      </div>
      <figcaption id="qp-timeline-caption">
        Events per minute, {first}–{last} UTC; busiest {hhmm(busiest.minute)} ({busiest.count}).{' '}
        {highlighted.length > 0 ? (
          <>
            <span className="qp-swatch" aria-hidden="true" /> Striped: {highlighted.join(', ')}
            {hot.length ? `, active in ${hot.length} minute${hot.length === 1 ? '' : 's'} from ${hhmm(hot[0]!.minute)} to ${hhmm(hot[hot.length - 1]!.minute)}.` : ', not active in these results.'}
          </>
        ) : (
          'Mark an identity to highlight it.'
        )}
      </figcaption>
    </figure>
  );
}
