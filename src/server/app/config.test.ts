import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configurationTable, ConfigError, loadConfig, SETTINGS } from './config.ts';

const root = path.resolve(import.meta.dirname, '../../..');

function problemsOf(env: Record<string, string>): ConfigError['problems'] {
  try {
    loadConfig(env, '/srv/irlab');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives every default for an empty environment', () => {
    const config = loadConfig({}, '/srv/irlab');
    expect(config).toMatchObject({
      port: 4321,
      host: 'localhost',
      dataDir: '/srv/irlab/.irlab/data',
      contentRoot: '/srv/irlab',
      terminal: { cluster: 'engine', graceMs: 600_000, ttlMs: 14_400_000 },
      drills: { scoreMs: 10_000, maxLive: 10 },
      pool: { size: 1, idleTtlMs: 1_800_000, stateDir: '/srv/irlab/.irlab/data/cluster-pool' },
      labs: { preparedPerLab: 1, timeLimit: { sessionMinutes: 120, extendMinutes: 30, maxMinutes: 240 } },
      limits: { startsPerLearner: 6, startsPerAddress: 20, checksWindowSeconds: 60, queriesPerLearner: 2 },
      query: { budgetSeconds: 5, queue: 16, memoryMb: 512 },
    });
    expect(config.query.workers).toBeGreaterThanOrEqual(1);
  });

  it('reads what is set', () => {
    const config = loadConfig({ PORT: '0', IRLAB_DATA_DIR: '/var/lib/irlab', IRLAB_WARM_POOL_SIZE: '3', IRLAB_DRILL_SCORE_SECONDS: '2', IRLAB_LIMIT_CHECKS_PER_LEARNER: '0', IRLAB_QUERY_WORKERS: '3', IRLAB_TRUST_PROXY: 'yes' }, '/srv');
    expect(config).toMatchObject({ port: 0, dataDir: '/var/lib/irlab', pool: { size: 3, stateDir: '/var/lib/irlab/cluster-pool' }, drills: { scoreMs: 2000 }, limits: { checksPerLearner: 0 }, query: { workers: 3 }, trustProxy: true });
    // Leaves that read the environment themselves see the resolved data directory.
    expect(config.env.IRLAB_DATA_DIR).toBe('/var/lib/irlab');
  });

  it('reports every problem at once, each with its variable, value and a fix', () => {
    const problems = problemsOf({
      // setInterval(NaN) before: the scoreboard ran as fast as the event loop allowed.
      IRLAB_DRILL_SCORE_SECONDS: 'abc',
      // A grace period of NaN ms: the reaper never reaped a detached session.
      IRLAB_TERMINAL_GRACE_SECONDS: 'ten minutes',
      IRLAB_WARM_POOL_SIZE: 'two',
      IRLAB_LIMIT_STARTS_PER_LEARNER: '-1',
      IRLAB_QUERY_BUDGET_SECONDS: '0',
      IRLAB_SCENARIO_TIME_SCALE: 'fast',
      IRLAB_TERMINAL_CLUSTER: 'kind',
      IRLAB_SANDBOX_UIDS: '5-1',
      IRLAB_WORKSPACE_MB: '8',
      IRLAB_TRUST_PROXY: 'maybe',
      PORT: '99999',
    });
    expect(problems.map((p) => p.variable).sort()).toEqual(
      ['IRLAB_DRILL_SCORE_SECONDS', 'IRLAB_TERMINAL_GRACE_SECONDS', 'IRLAB_WARM_POOL_SIZE', 'IRLAB_LIMIT_STARTS_PER_LEARNER', 'IRLAB_QUERY_BUDGET_SECONDS', 'IRLAB_SCENARIO_TIME_SCALE', 'IRLAB_TERMINAL_CLUSTER', 'IRLAB_SANDBOX_UIDS', 'IRLAB_WORKSPACE_MB', 'IRLAB_TRUST_PROXY', 'PORT'].sort(),
    );
    const byName = Object.fromEntries(problems.map((p) => [p.variable, p]));
    expect(byName.IRLAB_DRILL_SCORE_SECONDS).toEqual({ variable: 'IRLAB_DRILL_SCORE_SECONDS', value: 'abc', message: 'is not a whole number from 2 to 3600; set it to, for example, 10, or unset it' });
    expect(byName.IRLAB_LIMIT_STARTS_PER_LEARNER!.message).toBe('is not a whole number of at least 0; set it to, for example, 6, or unset it');
    expect(byName.IRLAB_TERMINAL_CLUSTER!.message).toBe('is not one of engine, none; set it to one of them (default engine), or unset it');
    expect(byName.IRLAB_SANDBOX_UIDS!.message).toMatch(/^must be FIRST-LAST with 1000 <= FIRST <= LAST/);
    expect(byName.IRLAB_WORKSPACE_MB!.message).toMatch(/^must be 0 \(no limit\) or a whole number of MiB, at least 16/);
  });

  it('reads the watchdog settings; 0 turns it off', () => {
    expect(loadConfig({}, '/srv').pool.watchdog).toEqual({ intervalMs: 5_000, readyzEveryMs: 30_000 });
    expect(loadConfig({ IRLAB_WATCHDOG_SECONDS: '2', IRLAB_WATCHDOG_READYZ_SECONDS: '10' }, '/srv').pool.watchdog).toEqual({ intervalMs: 2_000, readyzEveryMs: 10_000 });
    expect(loadConfig({ IRLAB_WATCHDOG_SECONDS: '0' }, '/srv').pool.watchdog).toBeUndefined();
    expect(problemsOf({ IRLAB_WATCHDOG_SECONDS: 'often' })[0]!.message).toBe('is not a whole number from 0 to 3600; set it to, for example, 5, or unset it');
  });

  it('refuses a scoring interval below two seconds and fractions', () => {
    expect(problemsOf({ IRLAB_DRILL_SCORE_SECONDS: '1' })[0]!.variable).toBe('IRLAB_DRILL_SCORE_SECONDS');
    expect(problemsOf({ IRLAB_TERMINAL_TTL_SECONDS: '3600.5' })[0]!.variable).toBe('IRLAB_TERMINAL_TTL_SECONDS');
  });

  it('gives a lab run a time limit no longer than a terminal session lives', () => {
    expect(loadConfig({}, '/srv').labs.timeLimit).toEqual({ sessionMinutes: 120, extendMinutes: 30, maxMinutes: 240 });
    expect(loadConfig({ IRLAB_LAB_SESSION_MINUTES: '300', IRLAB_TERMINAL_TTL_SECONDS: '36000', IRLAB_LAB_MAX_MINUTES: '200' }, '/srv').labs.timeLimit.sessionMinutes).toBe(200);
    const [problem] = problemsOf({ IRLAB_LAB_MAX_MINUTES: '241' });
    expect(problem).toMatchObject({ variable: 'IRLAB_LAB_MAX_MINUTES', value: '241', message: expect.stringMatching(/IRLAB_TERMINAL_TTL_SECONDS=14400.*at most 240/) });
    expect(problemsOf({ IRLAB_LAB_EXTEND_MINUTES: '0' })[0]!.variable).toBe('IRLAB_LAB_EXTEND_MINUTES');
  });

  it('reads the LRS: endpoint with key and secret (or one Authorization value); unset endpoint, no xAPI; never shows a secret in a problem', () => {
    expect(loadConfig({}, '/srv').xapi).toBeUndefined();
    expect(loadConfig({ IRLAB_XAPI_ENDPOINT: 'https://lrs.example.org/xapi/', IRLAB_XAPI_KEY: 'k', IRLAB_XAPI_SECRET: 's3cret' }, '/srv').xapi).toEqual({
      endpoint: 'https://lrs.example.org/xapi',
      authorization: `Basic ${Buffer.from('k:s3cret').toString('base64')}`,
      batchSize: 50,
      timeoutMs: 30_000,
      retryMinMs: 1000,
      retryMaxMs: 300_000,
    });
    expect(loadConfig({ IRLAB_XAPI_ENDPOINT: 'http://127.0.0.1:9/data/xAPI', IRLAB_XAPI_AUTH: 'Basic abc=', IRLAB_XAPI_RETRY_MIN_MS: '10', IRLAB_XAPI_RETRY_MAX_MS: '200' }, '/srv').xapi).toMatchObject({ endpoint: 'http://127.0.0.1:9/data/xAPI', authorization: 'Basic abc=', retryMinMs: 10, retryMaxMs: 200 });
    for (const bad of ['lrs.example.org', 'ftp://lrs.example.org', 'https://key:secret@lrs.example.org/xapi']) {
      expect(problemsOf({ IRLAB_XAPI_ENDPOINT: bad, IRLAB_XAPI_AUTH: 'Basic x' })[0]).toMatchObject({ variable: 'IRLAB_XAPI_ENDPOINT', message: expect.stringMatching(/http\(s\) URL of an xAPI base without credentials/) });
    }
    expect(problemsOf({ IRLAB_XAPI_ENDPOINT: 'https://key:top-secret@lrs.example.org/xapi', IRLAB_XAPI_AUTH: 'Basic x' })[0]!.value).toBe('https://(hidden)@lrs.example.org/xapi');
    const endpoint = 'https://lrs.example.org/xapi';
    expect(problemsOf({ IRLAB_XAPI_ENDPOINT: endpoint })[0]).toMatchObject({ variable: 'IRLAB_XAPI_KEY', value: undefined });
    expect(problemsOf({ IRLAB_XAPI_ENDPOINT: endpoint, IRLAB_XAPI_KEY: 'k' })[0]).toMatchObject({ variable: 'IRLAB_XAPI_SECRET' });
    expect(problemsOf({ IRLAB_XAPI_SECRET: 'top-secret' })[0]).toMatchObject({ variable: 'IRLAB_XAPI_ENDPOINT' });
    const both = problemsOf({ IRLAB_XAPI_ENDPOINT: endpoint, IRLAB_XAPI_KEY: 'k', IRLAB_XAPI_SECRET: 'top-secret', IRLAB_XAPI_AUTH: 'Basic top-secret' });
    expect(both[0]).toMatchObject({ variable: 'IRLAB_XAPI_AUTH', value: '(hidden)' });
    expect(JSON.stringify(both)).not.toContain('top-secret');
    expect(problemsOf({ IRLAB_XAPI_ENDPOINT: endpoint, IRLAB_XAPI_AUTH: 'Basic x', IRLAB_XAPI_RETRY_MIN_MS: '5000', IRLAB_XAPI_RETRY_MAX_MS: '1000' })[0]).toMatchObject({ variable: 'IRLAB_XAPI_RETRY_MIN_MS', value: '5000' });
  });

  it('takes a PostgreSQL URL for the store, refuses anything else, and never shows its password', () => {
    expect(loadConfig({}, '/srv').databaseUrl).toBeUndefined();
    expect(loadConfig({ IRLAB_DATABASE_URL: 'postgres://irlab:pw@db.example.org:5432/irlab' }, '/srv').databaseUrl).toBe('postgres://irlab:pw@db.example.org:5432/irlab');
    expect(loadConfig({ IRLAB_DATABASE_URL: 'postgresql:///irlab?host=/run/postgresql' }, '/srv').databaseUrl).toBe('postgresql:///irlab?host=/run/postgresql');
    for (const bad of ['db.example.org', 'mysql://u:p@db/irlab', 'postgres://irlab:top-secret@db.example.org', 'postgres:///irlab']) {
      expect(problemsOf({ IRLAB_DATABASE_URL: bad })[0]).toMatchObject({ variable: 'IRLAB_DATABASE_URL', message: expect.stringMatching(/PostgreSQL URL with a host and a database/) });
    }
    expect(problemsOf({ IRLAB_DATABASE_URL: 'postgres://irlab:top-secret@db.example.org' })[0]!.value).toBe('postgres://(hidden)@db.example.org');
    expect(JSON.stringify(problemsOf({ IRLAB_DATABASE_URL: 'postgres:///?host=/x&password=top-secret' }))).not.toContain('top-secret');
  });

  it('runs as one process by default; a front or a cell needs the database and the key, a cell its URL, and says so', () => {
    expect(loadConfig({}, '/srv').cells).toMatchObject({ role: 'all', capacity: 20, heartbeatMs: 5_000, expireAfterMs: 45_000 });
    expect(problemsOf({ IRLAB_ROLE: 'proxy' })[0]).toMatchObject({ variable: 'IRLAB_ROLE', message: expect.stringMatching(/all, front, cell/) });
    expect(problemsOf({ IRLAB_ROLE: 'front' }).map((p) => p.variable)).toEqual(['IRLAB_DATABASE_URL', 'IRLAB_CELL_FORWARD_KEY']);
    expect(problemsOf({ IRLAB_ROLE: 'cell', IRLAB_CELL_ID: 'cell 0' }).map((p) => p.variable)).toEqual(['IRLAB_DATABASE_URL', 'IRLAB_CELL_FORWARD_KEY', 'IRLAB_CELL_URL', 'IRLAB_CELL_ID']);
    const shared = { IRLAB_DATABASE_URL: 'postgres://irlab@db/irlab', IRLAB_CELL_FORWARD_KEY: 'Yq3vR0m9cXH2tB7LsWkE4pZ1uN8aJd6GfT5oVx0iQe' };
    expect(loadConfig({ ...shared, IRLAB_ROLE: 'front' }, '/srv').cells.role).toBe('front');
    expect(loadConfig({ ...shared, IRLAB_ROLE: 'cell', IRLAB_CELL_ID: 'cell-0', IRLAB_CELL_URL: 'http://cell-0.cells:4321/', IRLAB_CELL_CAPACITY: '40' }, '/srv').cells).toMatchObject({ role: 'cell', id: 'cell-0', url: 'http://cell-0.cells:4321', capacity: 40 });
    expect(problemsOf({ IRLAB_CELL_HEARTBEAT_SECONDS: '10', IRLAB_CELL_EXPIRE_SECONDS: '20' })[0]).toMatchObject({ variable: 'IRLAB_CELL_EXPIRE_SECONDS', message: expect.stringMatching(/at least 30/) });
  });

  it('takes the fronts\' and cells\' forward key, refuses a weak one, and never shows it', () => {
    expect(loadConfig({}, '/srv').cells.forwardKey).toBeUndefined();
    const key = 'Yq3vR0m9cXH2tB7LsWkE4pZ1uN8aJd6GfT5oVx0iQe';
    expect(loadConfig({ IRLAB_CELL_FORWARD_KEY: key }, '/srv').cells.forwardKey).toEqual(Buffer.from(key));
    for (const bad of ['top-secret', `top-secret ${key}`]) {
      const problems = problemsOf({ IRLAB_CELL_FORWARD_KEY: bad });
      expect(problems[0]).toMatchObject({ variable: 'IRLAB_CELL_FORWARD_KEY', value: '(hidden)', message: expect.stringMatching(/shorter than 32 characters|white space/) });
      expect(JSON.stringify(problems)).not.toContain('top-secret');
    }
  });

  it('takes the public origin as given, or builds it from HOST and PORT; refuses one with a path or another scheme', () => {
    expect(loadConfig({}, '/srv').publicUrl).toBe('http://localhost:4321');
    expect(loadConfig({ IRLAB_PUBLIC_URL: 'https://irlab.example.org/' }, '/srv').publicUrl).toBe('https://irlab.example.org');
    for (const bad of ['irlab.example.org', 'https://irlab.example.org/lti', 'javascript:alert(1)', 'https://u:p@irlab.example.org']) {
      expect(problemsOf({ IRLAB_PUBLIC_URL: bad })[0]).toMatchObject({ variable: 'IRLAB_PUBLIC_URL', message: expect.stringMatching(/origin without a path/) });
    }
  });

  it('is documented: docs/configuration.md holds the table of every setting', () => {
    const doc = readFileSync(path.join(root, 'docs/configuration.md'), 'utf8');
    expect(doc).toContain(configurationTable());
  });

  it('covers every IRLAB_* variable the server reads', () => {
    // The engine build's own variables (engine/build.sh) and those irlab sets for its children
    // (the pod sandbox, the shell launcher) are not the server's settings, nor the CLI's
    // IRLAB_DEBUG (docs/cli.md).
    const notSettings = new Set(['IRLAB_DEBUG', 'IRLAB_BUILD_DATE', 'IRLAB_BUILD_NICE', 'IRLAB_FORCE_REBUILD', 'IRLAB_SECCOMP', 'IRLAB_CGROUP_PROCS', 'IRLAB_POD_PIDS_MAX', 'IRLAB_POD_MEMORY_MAX', 'IRLAB_POD_CPU_WEIGHT']);
    const read = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (/\.(ts|astro)$/.test(entry.name) && !entry.name.endsWith('.test.ts')) {
          for (const match of readFileSync(full, 'utf8').matchAll(/\b(?:env|process\.env)(?:\.|\[')(IRLAB_[A-Z0-9_]+)/g)) read.add(match[1]!);
        }
      }
    };
    walk(path.join(root, 'src'));
    const missing = [...read].filter((name) => !(name in SETTINGS) && !notSettings.has(name));
    expect(missing).toEqual([]);
  });
});

describe('serve.ts with a bad configuration', () => {
  it('prints every problem and exits before listening', async () => {
    const data = await mkdtemp(path.join(tmpdir(), 'irlab-config-'));
    try {
      const child = spawn(process.execPath, [path.join(root, 'src/server/app/serve.ts')], {
        cwd: data,
        env: { PATH: process.env.PATH, IRLAB_DATA_DIR: data, PORT: '0', IRLAB_DRILL_SCORE_SECONDS: 'abc', IRLAB_TERMINAL_GRACE_SECONDS: '-5' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code).toBe(2);
      expect(output).toContain('IRLAB_DRILL_SCORE_SECONDS="abc" is not a whole number from 2 to 3600');
      expect(output).toContain('IRLAB_TERMINAL_GRACE_SECONDS="-5" is not a whole number from 1 to 604800');
      expect(output).toContain('docs/configuration.md');
      expect(output).not.toContain('listening');
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  }, 60_000);
});
