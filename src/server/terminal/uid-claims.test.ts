import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claimUid, parseUidRange, processStartTime } from './uid-claims.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'irlab-uid-claims-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => mkdtempSync(path.join(root, `claims-${++dirs}-`));
/** A pid that existed and is gone now. */
const deadPid = () => spawnSync('/bin/true').pid!;

describe('uid claims', () => {
  it('hands out distinct uids of the range, refuses when all are held, and frees on release', () => {
    const dir = freshDir();
    const range = { first: 250_000, last: 250_004 };
    const claims = Array.from({ length: 5 }, () => claimUid(dir, range));
    expect(new Set(claims.map((c) => c.uid)).size).toBe(5);
    for (const claim of claims) {
      expect(claim.uid).toBeGreaterThanOrEqual(range.first);
      expect(claim.uid).toBeLessThanOrEqual(range.last);
      expect(claim.gid).toBe(claim.uid);
      expect(readFileSync(claim.file, 'utf8')).toBe(`${process.pid} ${processStartTime(process.pid)}\n`);
    }
    expect(() => claimUid(dir, range)).toThrow(/every sandbox uid 250000-250004 is in use.*widen IRLAB_SANDBOX_UIDS/);
    claims[2]!.release();
    claims[2]!.release(); // idempotent
    expect(claimUid(dir, range).uid).toBe(claims[2]!.uid);
  });

  it('reclaims a claim whose owner died or whose pid now names a younger process, never a live one', () => {
    const dir = freshDir();
    const range = { first: 250_100, last: 250_102 };
    writeFileSync(path.join(dir, '250100'), `${process.pid} ${processStartTime(process.pid)}\n`); // live: this process
    writeFileSync(path.join(dir, '250101'), `${deadPid()} 12345\n`); // dead
    writeFileSync(path.join(dir, '250102'), `${process.pid} 1\n`); // the pid was reused by us, started later
    const got = [claimUid(dir, range, () => 0).uid, claimUid(dir, range, () => 0).uid].sort();
    expect(got).toEqual([250_101, 250_102]);
    expect(() => claimUid(dir, range)).toThrow(/in use/);
    expect(readdirSync(dir).sort()).toEqual(['250100', '250101', '250102']); // no lock file left
  });

  it('never gives one uid to two processes claiming at once, stale claims included', async () => {
    const dir = freshDir();
    const range = { first: 250_200, last: 250_239 };
    // Half of the range is stale claims of a dead server: the claimers race to reclaim them.
    for (let uid = range.first; uid < range.first + 20; uid++) writeFileSync(path.join(dir, String(uid)), `${deadPid()} 1\n`);
    const module = path.resolve(import.meta.dirname, 'uid-claims.ts');
    const script = `import { claimUid } from ${JSON.stringify(module)};
      const uids = []; for (let i = 0; i < 10; i++) uids.push(claimUid(${JSON.stringify(dir)}, ${JSON.stringify(range)}, () => 0).uid);
      console.log(JSON.stringify(uids)); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
    const claimers = Array.from({ length: 4 }, () => spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] }));
    const results = await Promise.all(
      claimers.map(
        (child) =>
          new Promise<{ pid: number; uids: number[] }>((resolve) => {
            let out = '';
            child.stdout!.on('data', (data: Buffer) => {
              out += data.toString();
              if (out.includes('\n')) resolve({ pid: child.pid!, uids: JSON.parse(out) as number[] });
            });
          }),
      ),
    );
    const all = results.flatMap((r) => r.uids);
    expect(all).toHaveLength(40);
    expect(new Set(all).size).toBe(40); // the whole range, each uid once
    for (const { pid, uids } of results) for (const uid of uids) expect(readFileSync(path.join(dir, String(uid)), 'utf8')).toMatch(new RegExp(`^${pid} `));
    await Promise.all(claimers.map((child) => new Promise((resolve) => (child.once('exit', resolve), child.stdin!.end()))));
  });

  it('reads IRLAB_SANDBOX_UIDS', () => {
    expect(parseUidRange(undefined)).toEqual({ first: 200_000, last: 299_999 });
    expect(parseUidRange('300000-300099')).toEqual({ first: 300_000, last: 300_099 });
    expect(() => parseUidRange('0-10')).toThrow(/FIRST-LAST/);
    expect(() => parseUidRange('5000-4000')).toThrow(/FIRST-LAST/);
  });
});
