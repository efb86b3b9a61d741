import { describe, expect, it } from 'vitest';
import { decodeOutputFrame, type ServerMessage } from '../../lib/terminal-protocol.ts';
import { spawnNodePty } from './node-pty-spawn.ts';
import { TerminalSession, type TerminalConnection } from './session.ts';

// A real PTY running `cat` (no sandbox needed): what the session applies, replays and announces.
function connection() {
  const texts: ServerMessage[] = [];
  let output = '';
  const closed: number[] = [];
  const conn: TerminalConnection = {
    sendText: (m) => texts.push(m),
    sendBinary: (f) => (output += new TextDecoder().decode(decodeOutputFrame(f)!.data)),
    close: (code) => closed.push(code),
  };
  return { conn, texts, closed, output: () => output };
}
// The PTY echoes a line at once and cat prints it when it gets to read it: under load the two
// can interleave ("one two one two"), so wait for both copies rather than for them side by side.
const twice = (text: string, word: string) => text.split(word).length - 1 >= 2;
const until = async (test: () => boolean) => {
  for (let i = 0; i < 1000 && !test(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(test()).toBe(true);
};

describe('terminal session', { timeout: 60_000 }, () => {
  it('applies input exactly once per client across reconnects, and hands over to a newer tab', async () => {
    const pty = spawnNodePty({ file: '/bin/cat', args: [], env: { PATH: '/usr/bin:/bin' } }, { cols: 80, rows: 24 });
    const session = new TerminalSession({ id: 's'.repeat(22), owner: 'ada', pty, lease: null, recorder: null, flow: { highWater: 65536, lowWater: 16384, replayBytes: 131072 }, now: Date.now, expiresAt: Date.now() + 60_000, cols: 80, rows: 24 });
    const hello = (clientId: string, lastOutputSeq = 0) => ({ t: 'hello' as const, v: 1, clientId, lastOutputSeq, cols: 80, rows: 24 });
    const input = (seq: number, data: string) => JSON.stringify({ t: 'input', seq, data });

    const first = connection();
    session.attach(first.conn, hello('tab-one-aaaa'));
    session.receive(first.conn, input(1, 'one\r'));
    session.receive(first.conn, input(2, 'two\r'));
    await until(() => twice(first.output(), 'two'));

    // The same tab reconnects and resends what it could not confirm: nothing runs twice.
    const again = connection();
    session.attach(again.conn, hello('tab-one-aaaa', 1_000));
    expect(again.texts[0]).toMatchObject({ t: 'hello', lastInputSeq: 2 });
    session.receive(again.conn, input(2, 'two\r'));
    session.receive(again.conn, input(3, 'three\r'));
    await until(() => twice(again.output(), 'three'));
    expect(again.output()).not.toContain('two');
    expect(first.closed).toEqual([4001]); // the older connection was told it was taken over

    // A second tab counts its keys from 1 again, and is not mistaken for a repeat.
    const other = connection();
    session.attach(other.conn, hello('tab-two-bbbb'));
    expect(other.texts[0]).toMatchObject({ t: 'hello', lastInputSeq: 0 });
    expect(other.output()).toContain('three'); // replayed screen
    session.receive(other.conn, input(1, 'four\r'));
    await until(() => twice(other.output(), 'four'));
    expect(again.texts.at(-1)).toMatchObject({ t: 'error', code: 'taken-over' });
    session.receive(again.conn, input(4, 'ignored\r')); // a taken-over tab cannot type
    await new Promise((r) => setTimeout(r, 100));
    expect(other.output()).not.toContain('ignored');
    await session.end('test over');
    // A real PTY on a loaded 2-core machine: give it room; the assertions stay the same.
  }, 30_000);

  it('lets a watcher see the replay and live output, never type, and never hold up the owner', async () => {
    const pty = spawnNodePty({ file: '/bin/cat', args: [], env: { PATH: '/usr/bin:/bin' } }, { cols: 80, rows: 24 });
    const session = new TerminalSession({ id: 'w'.repeat(22), owner: 'd_x_p1', principal: 'lrn_ada', group: 'drill:x', pty, lease: null, recorder: null, flow: { highWater: 65536, lowWater: 16384, replayBytes: 131072 }, now: Date.now, expiresAt: Date.now() + 60_000, cols: 80, rows: 24 });
    const hello = (clientId: string) => ({ t: 'hello' as const, v: 1, clientId, lastOutputSeq: 0, cols: 80, rows: 24 });
    const owner = connection();
    session.attach(owner.conn, hello('owner-aaaa'));
    session.receive(owner.conn, JSON.stringify({ t: 'input', seq: 1, data: 'before\r' }));
    await until(() => twice(owner.output(), 'before'));

    const watcher = connection();
    session.watch(watcher.conn, hello('watcher-bbbb'));
    expect(watcher.texts[0]).toMatchObject({ t: 'hello', lastInputSeq: 0 });
    expect(watcher.output()).toContain('before'); // replay
    session.receive(watcher.conn, JSON.stringify({ t: 'input', seq: 2, data: 'from-watcher\r' })); // ignored: not the attached connection
    session.receive(owner.conn, JSON.stringify({ t: 'input', seq: 2, data: 'after\r' }));
    await until(() => twice(watcher.output(), 'after'));
    expect(owner.output()).not.toContain('from-watcher');
    expect(owner.closed).toEqual([]); // watching is not a takeover
    expect(session.principal).toBe('lrn_ada');
    await session.end('test over');
    expect(watcher.closed).toEqual([4004]);
  }, 30_000);
});
