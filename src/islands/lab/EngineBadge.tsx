import type { LabEngineView } from '../../lib/lab-engine.ts';

/**
 * The engine a lab runs on as a short badge; what it means (what is real, what is simulated, and
 * for a lab that cannot start here, why and what an operator can do) one click, tap or Enter
 * away, in a native disclosure: keyboard and screen readers get it without a script. Rendered
 * in the lab workspace (LabPanel), without hydration on /labs, and for each drill on /drills.
 */
export function EngineBadge({ engine, id, activity = 'lab' }: { engine: LabEngineView; id: string; activity?: 'lab' | 'drill' }) {
  return (
    <details className="engine-badge" data-engine={engine.engine} data-unavailable={engine.unavailable ? 'true' : undefined}>
      <summary aria-describedby={`${id}-summary`}>
        {engine.badge}
        <span className="visually-hidden">: what this means</span>
      </summary>
      <div className="engine-badge-body">
        <p id={`${id}-summary`}>{engine.summary}</p>
        <ul>
          {engine.facts.map((fact) => (
            <li key={fact.aspect}>
              <strong>{fact.aspect}</strong> <span className="engine-fact-kind">({fact.real ? 'real' : 'simulated'})</span>: {fact.text}
            </li>
          ))}
        </ul>
        {engine.unavailable && (
          <>
            <p>
              <strong>This {activity} cannot start on this server:</strong> it {engine.unavailable.reason}.
            </p>
            <p>For the operator: {engine.unavailable.operator}.</p>
          </>
        )}
      </div>
    </details>
  );
}
