/**
 * The cluster engine for a server that may start without it: `EngineBuild` runs engine/build.sh
 * in the background (IRLAB_ENGINE_BUILD=auto, what `npm start` sets), follows its progress (step
 * k/n, what, elapsed, an estimate from past step durations) for the console and `GET /api/engine`,
 * and tells whoever waits (the warm pool, the incident shelf) once the binaries are in place.
 * build.sh itself takes a lock per cache, so two servers, or `npm test` beside `npm start`, never
 * build into one cache at once: the second waits, then finds everything built.
 *
 * With IRLAB_ENGINE_BUILD=off (the default for serve.ts run directly, and the tests), nothing is
 * built: the status is `ready` or `missing` from the files alone, as before.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { z } from 'zod';

import { engineBusy, formatSeconds, type EngineStatus } from '../../lib/engine-status.ts';
import { binDir, cacheRoot, embeddedBinaries, engineDir, missingBinaries, readEngineVersions } from './binaries.ts';
import { estimate, parseBuildLine } from './engine-progress.ts';

export interface EngineBuildConfig {
  /** `auto`: build what is missing or stale in the background; `off`: only look. */
  mode: 'auto' | 'off';
  /** Seconds between progress lines on the console while a step runs. */
  reportSeconds: number;
}

export interface EngineBuildOptions {
  env: NodeJS.ProcessEnv;
  config: EngineBuildConfig;
  /** One line for the console. */
  log: (line: string) => void;
  now?: () => number;
  /** The build command; engine/build.sh unless a test says otherwise. */
  command?: { file: string; args: string[] };
}

const TIMES_FILE = 'engine-build-times.json';
const LOG_FILE = 'engine-build.log';

export class EngineBuild {
  private readonly env: NodeJS.ProcessEnv;
  private readonly config: EngineBuildConfig;
  private readonly log: (line: string) => void;
  private readonly now: () => number;
  private readonly command: { file: string; args: string[] };
  private readonly cache: string;
  private state: EngineStatus;
  private startedAt = 0;
  private plan: string[] = [];
  private current = -1;
  private currentWhat = '';
  private stepStartedAt = 0;
  private readonly durations: Record<string, number> = {};
  private recorded: Record<string, number> = {};
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly waiters: ((ready: boolean) => void)[] = [];
  private readonly tail: string[] = [];

  constructor(options: EngineBuildOptions) {
    this.env = options.env;
    this.config = options.config;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.command = options.command ?? { file: 'bash', args: [join(engineDir(options.env), 'build.sh')] };
    this.cache = cacheRoot(options.env);
    this.state = this.lookAtFiles();
  }

  /** Where the binaries stand, from the files alone. */
  private lookAtFiles(): EngineStatus {
    const dir = binDir(readEngineVersions(this.env), this.env);
    const missing = missingBinaries(dir, embeddedBinaries(this.env));
    if (!missing.length) return { state: 'ready' };
    return {
      state: 'missing',
      message: `missing in the engine cache ${dir}: ${missing.join(', ')}`,
      hint: 'Build them once with `irlab engine build` (about 10 min on 2 cores), or start the server with `npm start`, which builds them in the background.',
    };
  }

  status(): EngineStatus {
    const seconds = (from: number) => Math.round((this.now() - from) / 1000);
    if (this.state.state === 'checking' || this.state.state === 'waiting') return { ...this.state, elapsedSeconds: seconds(this.startedAt) };
    if (this.state.state !== 'building') return this.state;
    const { remainingSeconds, fraction } = estimate(this.plan, this.current, (this.now() - this.stepStartedAt) / 1000, this.recorded);
    return { ...this.state, elapsedSeconds: seconds(this.startedAt), remainingSeconds, fraction };
  }

  /** Resolves true once the engine is ready, false if it will not be (build failed or stopped, or missing with IRLAB_ENGINE_BUILD=off). */
  ready(): Promise<boolean> {
    if (this.state.state === 'ready') return Promise.resolve(true);
    if (!engineBusy(this.state)) return Promise.resolve(false);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** In auto mode, runs build.sh (it checks versions too, so a stale binary is rebuilt). */
  start(): void {
    if (this.config.mode === 'off' || this.child || this.stopped) return;
    this.startedAt = this.now();
    this.state = { state: 'checking', elapsedSeconds: 0 };
    this.recorded = this.readTimes();
    mkdirSync(this.cache, { recursive: true });
    const file: WriteStream = createWriteStream(join(this.cache, LOG_FILE));
    file.on('error', () => undefined); // the log file is a convenience; the console has the tail
    // A process group of its own, so that stop() ends the go builds along with the script.
    const child = spawn(this.command.file, this.command.args, { env: this.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        file.write(`${line}\n`);
        this.tail.push(line);
        if (this.tail.length > 20) this.tail.shift();
        this.onLine(line);
      });
    }
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        this.finish(null, `could not run ${this.command.file}: ${error.message}`);
        file.end();
        resolve();
      });
      child.once('close', (code, signal) => {
        this.finish(code, signal ? `stopped by ${signal}` : undefined);
        file.end();
        resolve();
      });
    });
    this.timer = setInterval(() => this.report(), this.config.reportSeconds * 1000);
    this.timer.unref();
    this.log('irlab: engine: checking the cluster binaries (engine/build.sh builds what is missing or stale)');
  }

  private onLine(line: string): void {
    const event = parseBuildLine(line);
    if (!event) return;
    if (event.type === 'plan') {
      this.plan = event.steps;
      // Only the checks to do: nothing to build, no progress bar for two seconds.
      if (event.steps.every((id) => id === 'packages' || id === 'verify')) return;
      this.log(`irlab: engine: building ${event.steps.filter((id) => id !== 'packages' && id !== 'verify').join(', ')} in the background; the site serves meanwhile, labs start once it is done`);
    } else if (event.type === 'waiting') {
      this.state = { state: 'waiting', message: event.message, elapsedSeconds: 0 };
      this.log(`irlab: engine: ${event.message}; waiting for it`);
    } else if (event.type === 'step') {
      this.closeStep();
      this.current = event.index - 1;
      this.currentWhat = event.what;
      this.stepStartedAt = this.now();
      if (this.plan.every((id) => id === 'packages' || id === 'verify')) return;
      this.state = { state: 'building', step: event.index, steps: event.count, what: event.what, elapsedSeconds: 0, remainingSeconds: 0, fraction: 0 };
      this.report();
    }
  }

  /** One console line: step k/n, what, elapsed, estimate. */
  private report(): void {
    const status = this.status();
    if (status.state !== 'building') return;
    this.log(`irlab: engine build step ${status.step}/${status.steps}: ${status.what} · ${formatSeconds(status.elapsedSeconds)} elapsed, about ${formatSeconds(status.remainingSeconds)} left`);
  }

  private closeStep(): void {
    const id = this.plan[this.current];
    if (id) this.durations[id] = Math.round((this.now() - this.stepStartedAt) / 1000);
  }

  private finish(code: number | null, why: string | undefined): void {
    if (this.timer) clearInterval(this.timer);
    this.child = undefined;
    const total = formatSeconds((this.now() - this.startedAt) / 1000);
    if (code === 0) {
      this.closeStep();
      this.saveTimes();
      this.state = { state: 'ready' };
      if (this.plan.some((id) => id !== 'packages' && id !== 'verify')) this.log(`irlab: engine: built in ${total}; labs and terminals get clusters now`);
    } else {
      const what = this.currentWhat || 'checking the engine';
      const errorLine = [...this.tail].reverse().find((line) => parseBuildLine(line)?.type === 'error');
      const message = this.stopped
        ? 'the build was stopped with the server'
        : errorLine
          ? errorLine.replace(/^\[engine\] ERROR: /, '')
          : `engine/build.sh exited with ${why ?? `code ${code}`}: ${this.tail.filter((l) => l.trim()).slice(-1)[0] ?? 'no output'}`;
      const hint = `Fix what the message says, then run \`irlab engine build\` or restart \`npm start\`. The whole log is in ${join(this.cache, LOG_FILE)}.`;
      this.state = { state: 'failed', what, message, hint };
      if (!this.stopped) {
        this.log(`irlab: engine build FAILED at "${what}" after ${total}: ${message}`);
        for (const line of this.tail.slice(-10)) this.log(`irlab: engine:   ${line}`);
        this.log(`irlab: engine: ${hint}`);
      }
    }
    for (const resolve of this.waiters.splice(0)) resolve(this.state.state === 'ready');
  }

  private readTimes(): Record<string, number> {
    try {
      const data = JSON.parse(readFileSync(join(this.cache, TIMES_FILE), 'utf8')) as unknown;
      return z.record(z.string(), z.number().nonnegative()).parse(data);
    } catch {
      return {}; // none yet, or unreadable: the measured figures serve
    }
  }

  /** Keeps how long each step took here, for the next estimate (a step never run keeps its old figure). */
  private saveTimes(): void {
    const built = Object.fromEntries(Object.entries(this.durations).filter(([id]) => id !== 'packages' && id !== 'verify'));
    if (!Object.keys(built).length) return;
    try {
      writeFileSync(join(this.cache, TIMES_FILE), `${JSON.stringify({ ...this.recorded, ...built }, null, 2)}\n`);
    } catch (error) {
      this.log(`irlab: engine: could not record step durations in ${this.cache}: ${String(error)}`);
    }
  }

  /** Ends a running build (its whole process group) and waits for it; the lock goes with it. */
  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child?.pid) return this.exited;
    const kill = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    };
    kill('SIGTERM');
    const late = setTimeout(() => kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(late);
  }
}
