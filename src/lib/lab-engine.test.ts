import { describe, expect, it } from 'vitest';
import { DRILL_SEAT, labEngineOn } from './lab-engine.ts';

describe('the engine labs run on', () => {
  it('embedded: says what is real (API server, RBAC, audit log) and what is not (pods, NetworkPolicy enforcement)', () => {
    const engine = labEngineOn('embedded');
    expect(engine.description.name).toBe('embedded');
    const facts = Object.fromEntries(engine.description.facts.map((f) => [f.aspect, f]));
    expect(facts['API server']).toMatchObject({ real: true });
    expect(facts['RBAC and audit log']).toMatchObject({ real: true });
    expect(facts['Pods']).toMatchObject({ real: false, text: expect.stringMatching(/no container runs/) });
    expect(facts['NetworkPolicy']).toMatchObject({ real: false, text: expect.stringMatching(/evaluated.*not enforced/) });
  });

  it('runs an `any` lab on the embedded engine and shows that engine', () => {
    const view = labEngineOn('embedded').fit('any');
    expect(view).toMatchObject({ engine: 'embedded', badge: 'Embedded engine' });
    expect(view.unavailable).toBeUndefined();
  });

  it('shows a `kind` lab on the embedded engine as needing kind, with the reason and what an operator can do', () => {
    const view = labEngineOn('embedded').fit('kind');
    expect(view).toMatchObject({ engine: 'kind', badge: 'Needs kind' });
    expect(view.facts.find((f) => f.aspect === 'NetworkPolicy')).toMatchObject({ real: true });
    expect(view.unavailable?.reason).toBe('needs the kind engine: real containers and enforced NetworkPolicy; this server runs labs on the embedded engine');
    expect(view.unavailable?.operator).toMatch(/irlab engine build --kind/);
  });

  it('runs both kinds of lab where labs run on kind', () => {
    const engine = labEngineOn('kind');
    expect(engine.fit('kind').unavailable).toBeUndefined();
    expect(engine.fit('any')).toMatchObject({ engine: 'kind', badge: 'kind engine' });
  });

  it('labs: the operator is told the setting that moves labs to kind', () => {
    expect(labEngineOn('embedded').fit('kind').unavailable?.operator).toMatch(/IRLAB_LAB_ENGINE=kind/);
  });

  it('drills: the same fit and badge, the reason says drills, the operator that drills stay on this engine', () => {
    const view = labEngineOn('embedded', DRILL_SEAT).fit('kind');
    expect(view).toMatchObject({ engine: 'kind', badge: 'Needs kind' });
    expect(view.unavailable?.reason).toBe('needs the kind engine: real containers and enforced NetworkPolicy; this server runs drills on the embedded engine');
    expect(view.unavailable?.operator).toMatch(/^drills run on the embedded engine on every server .*IRLAB_LAB_ENGINE=kind/);
    expect(labEngineOn('embedded', DRILL_SEAT).fit('any').unavailable).toBeUndefined();
  });
});
