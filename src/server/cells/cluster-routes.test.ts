import { describe, expect, it } from 'vitest';
import { clusterRoute, drillRoute, drillSocket, isClusterSocket } from './cluster-routes.ts';

describe('which requests live on the learner\'s cell', () => {
  it('places on Start and on opening a terminal; lab actions go where the learner is placed; reads fall back to the front', () => {
    expect(clusterRoute('POST', '/api/labs/l18/start')).toBe('place');
    expect(clusterRoute('POST', '/api/terminal/session')).toBe('place');
    for (const action of ['check', 'hint', 'apply-policy', 'node-evidence', 'extend', 'reset', 'anything']) expect(clusterRoute('POST', `/api/labs/l18/${action}`)).toBe('placed');
    expect(clusterRoute('GET', '/api/labs/l18')).toBe('placed-or-here');
    expect(clusterRoute('GET', '/api/labs/l18/files')).toBe('placed-or-here');
    // Whether her shell is watched is known on her cell (the messages are the database's).
    expect(clusterRoute('GET', '/api/classes/notices')).toBe('placed-or-here');
    expect(clusterRoute('POST', '/api/classes/notices')).toBe('placed-or-here');
    expect(clusterRoute('DELETE', '/api/classes/notices')).toBeUndefined();
  });

  it('leaves the front everything that needs no cluster: notes, pages, quizzes, other methods', () => {
    for (const [method, path] of [
      ['GET', '/api/labs/l18/notes'],
      ['PUT', '/api/labs/l18/notes'],
      ['POST', '/api/labs/l18/notes'],
      ['GET', '/api/terminal/session'],
      ['GET', '/api/labs/l18/start'],
      ['POST', '/api/labs'],
      ['GET', '/labs/l18'],
      ['POST', '/api/quizzes/l18/attempts'],
      ['GET', '/api/labs/l18/check/more'],
    ] as const) {
      expect(clusterRoute(method, path), `${method} ${path}`).toBeUndefined();
    }
  });

  it('relays the terminal socket, not the drills\'', () => {
    expect(isClusterSocket('/ws/terminal/abc')).toBe(true);
    expect(isClusterSocket('/ws/drills/abc')).toBe(false);
    expect(isClusterSocket('/ws/terminal/abc/x')).toBe(false);
  });

  it('sends a drill\'s creation, join and changes to the drill\'s cell; its reads stay on the front', () => {
    expect(drillRoute('POST', '/api/drills')).toEqual({ kind: 'create' });
    expect(drillRoute('POST', '/api/drills/join')).toEqual({ kind: 'join' });
    for (const action of ['log', 'injects', 'control', 'answers', 'terminal', 'expectations/e1']) {
      expect(drillRoute('POST', `/api/drills/drl_abc/${action}`), action).toEqual({ kind: 'drill', drillId: 'drl_abc' });
    }
    for (const [method, path] of [
      ['GET', '/api/drills/drl_abc'],
      ['GET', '/api/drills/drl_abc/report'],
      ['GET', '/api/drills/drl_abc/report.md'],
      ['GET', '/api/drills/drl_abc/report.html'],
      ['GET', '/api/drills/scenarios'],
      ['GET', '/api/drills'],
      ['GET', '/api/drills/drl_abc/log'],
      ['POST', '/api/drills/drl_abc'],
      ['POST', '/api/drills/drl_abc/report'],
      ['POST', '/api/drills/drl_abc/terminal/more'],
      ['POST', '/api/drills/drl_abc/expectations'],
      ['POST', '/api/drills/../log'],
      ['POST', '/drills/drl_abc/log'],
    ] as const) {
      expect(drillRoute(method, path), `${method} ${path}`).toBeUndefined();
    }
  });

  it('relays a drill\'s live feed to its cell', () => {
    expect(drillSocket('/ws/drills/drl_abc')).toBe('drl_abc');
    expect(drillSocket('/ws/drills/drl_abc/x')).toBeUndefined();
    expect(drillSocket('/ws/terminal/drl_abc')).toBeUndefined();
    expect(drillSocket('/ws/drills/')).toBeUndefined();
  });
});
