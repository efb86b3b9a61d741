import { useEffect, useState } from 'react';
import { formatClock } from '../lib/drill-socket.ts';
import type { DrillReport as Report, ReportEntryKind } from '../lib/drill-view.ts';
import { drillApi, facilitatorToken } from '../stores/drill-store.ts';
import { InlineMarkdown } from './DrillLog.tsx';
import '../styles/drills.css';

const kindWords: Record<ReportEntryKind, string> = {
  note: 'Note',
  decision: 'Decision',
  inject: 'Inject',
  attack: 'Attacker action',
  'attack-skipped': 'Attack not carried out',
  check: 'Check green',
  expectation: 'Expectation',
  system: 'Drill',
  command: 'Command',
  audit: 'Audit event',
};

const duration = (ms: number | null) => (ms === null ? 'not reached' : formatClock(ms));

/**
 * A Markdown/HTML export. Participants follow a plain link (their cookie goes with it); the
 * facilitator's token can only travel in a header, so their download goes through fetch.
 */
function ExportLink({ drillId, ext, token, children }: { drillId: string; ext: 'md' | 'html'; token: string | null; children: string }) {
  const href = `/api/drills/${encodeURIComponent(drillId)}/report.${ext}`;
  return (
    <a
      className="button-link"
      href={href}
      download={`drill-${drillId}.${ext}`}
      onClick={async (e) => {
        if (!token) return;
        e.preventDefault();
        const response = await fetch(href, { headers: { authorization: `Bearer ${token}` } });
        if (!response.ok) return;
        const url = URL.createObjectURL(await response.blob());
        const link = document.createElement('a');
        link.href = url;
        link.download = `drill-${drillId}.${ext}`;
        link.click();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      }}
    >
      {children}
    </a>
  );
}

/** The after-action report, readable on screen and clean on paper (see the print rules in drills.css). */
export default function DrillReport({ drillId }: { drillId: string }) {
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState('');
  const [token, setToken] = useState<string | null>(null);
  useEffect(() => {
    const t = facilitatorToken(drillId);
    setToken(t);
    drillApi<Report>(`/api/drills/${encodeURIComponent(drillId)}/report`, {}, t)
      .then(setReport)
      .catch((e: Error) => setError(e.message));
  }, [drillId]);

  if (error)
    return (
      <p className="drill-error" role="alert">
        {error} <a href={`/drills/${encodeURIComponent(drillId)}`}>Back to the drill</a>
      </p>
    );
  if (!report) return <p className="muted">Building the report…</p>;
  const { drill, metrics } = report;
  return (
    <article className="drill-report" aria-labelledby="report-title">
      <div className="drill-report-actions no-print" role="toolbar" aria-label="Report actions">
        <button type="button" className="primary" onClick={() => window.print()}>
          Print or save as PDF
        </button>
        <ExportLink drillId={drillId} ext="md" token={token}>
          Download Markdown
        </ExportLink>
        <ExportLink drillId={drillId} ext="html" token={token}>
          Download HTML
        </ExportLink>
      </div>
      <header>
        <p className="eyebrow">After-action report · {drill.scenarioTitle}</p>
        <h1 id="report-title">{drill.title}</h1>
        <p className="muted">
          {drill.startedAt ? `Started ${new Date(drill.startedAt).toLocaleString()}` : 'Never started'}
          {drill.endedAt ? ` · ended ${new Date(drill.endedAt).toLocaleString()}` : ''} · drill clock {formatClock(drill.elapsedMs)} of{' '}
          {formatClock(drill.durationMs)}
        </p>
        <p>
          <strong>Team:</strong> {drill.participants.map((p) => `${p.name} (${p.role})`).join(', ') || 'nobody joined'}
          {drill.attackerIdentities.length > 0 && (
            <>
              {' '}
              · <strong>Attacker:</strong>{' '}
              {drill.attackerIdentities.map((a, i) => (
                <span key={a}>
                  {i > 0 && ', '}
                  <code>{a}</code>
                </span>
              ))}
            </>
          )}
        </p>
      </header>

      <section aria-labelledby="report-metrics">
        <h2 id="report-metrics">Metrics</h2>
        <dl className="drill-metrics" data-testid="report-metrics">
          <div><dt>Time to detect</dt><dd>{duration(metrics.timeToDetectMs)}</dd></div>
          <div><dt>Time to contain</dt><dd>{duration(metrics.timeToContainMs)}</dd></div>
          <div><dt>Time to eradicate</dt><dd>{duration(metrics.timeToEradicateMs)}</dd></div>
          <div><dt>Commands typed</dt><dd>{metrics.commandsTyped}</dd></div>
          <div><dt>Notes · decisions</dt><dd>{metrics.notes} · {metrics.decisions}</dd></div>
          <div><dt>Injects fired</dt><dd>{metrics.injectsFired}</dd></div>
          <div><dt>Attacks landed · skipped</dt><dd>{metrics.attacksLanded} · {metrics.attacksSkipped}</dd></div>
          <div><dt>Expectations met</dt><dd>{metrics.expectationsMet} of {metrics.expectationsTotal}</dd></div>
        </dl>
      </section>

      <section aria-labelledby="report-steps">
        <h2 id="report-steps">Checks</h2>
        <table className="drill-table">
          <thead>
            <tr><th scope="col">Step</th><th scope="col">NIST SP 800-61 phase</th><th scope="col">First green</th></tr>
          </thead>
          <tbody>
            {report.scoreboard.map((row) => (
              <tr key={row.step}>
                <th scope="row">{row.title}</th>
                <td>{row.phase}</td>
                <td>{row.tMs !== null ? `T+${formatClock(row.tMs)}` : 'never'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <div className="drill-report-columns">
        <section aria-labelledby="report-well">
          <h2 id="report-well">What went well</h2>
          {report.wentWell.length ? <ul>{report.wentWell.map((line) => <li key={line}>{line}</li>)}</ul> : <p className="muted">Nothing recorded.</p>}
        </section>
        <section aria-labelledby="report-improve">
          <h2 id="report-improve">To improve</h2>
          {report.toImprove.length ? <ul>{report.toImprove.map((line) => <li key={line}>{line}</li>)}</ul> : <p className="muted">Nothing recorded.</p>}
        </section>
      </div>

      {report.expectations.length > 0 && (
        <section aria-labelledby="report-expectations">
          <h2 id="report-expectations">Expectations</h2>
          <ul>
            {report.expectations.map((x) => (
              <li key={x.id}>{x.met ? '✓ met' : '✗ not met'}: {x.text}</li>
            ))}
          </ul>
        </section>
      )}

      <section aria-labelledby="report-timeline">
        <h2 id="report-timeline">Timeline</h2>
        <table className="drill-table drill-timeline" data-testid="report-timeline">
          <thead>
            <tr>
              <th scope="col">Drill time</th><th scope="col">What</th><th scope="col">Who</th><th scope="col">Detail</th><th scope="col">ATT&amp;CK / NIST</th>
            </tr>
          </thead>
          <tbody>
            {report.timeline.map((entry, i) => (
              <tr key={i} data-kind={entry.kind} className={`drill-row-${entry.kind}`}>
                <td><time dateTime={entry.at}>T{entry.tMs < 0 ? '' : '+'}{formatClock(entry.tMs)}</time></td>
                <td>{kindWords[entry.kind]}</td>
                <td>{entry.actor ?? '—'}{entry.role ? <span className="muted"> ({entry.role})</span> : null}</td>
                <td>
                  <span className="drill-entry-title">{entry.title}</span>
                  {entry.body && entry.body.trim() !== entry.title.trim() && (
                    <span className="drill-entry-body">
                      <InlineMarkdown text={entry.body.trim()} />
                    </span>
                  )}
                </td>
                <td>
                  {entry.technique && <span className="drill-tag drill-tag-attack">{entry.technique.id} {entry.technique.name}</span>}
                  {entry.phase && <span className="drill-tag">{entry.phase}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <p className="muted drill-report-footer">Generated {new Date(report.generatedAt).toLocaleString()} by irlab.</p>
    </article>
  );
}
