import { describe, expect, it } from 'vitest';
import { OutputLog } from './output-log.ts';

const kb = (n: number) => new Uint8Array(n * 1024);

describe('output log', () => {
  const limits = { highWater: 64 * 1024, lowWater: 16 * 1024, replayBytes: 128 * 1024 };

  it('asks for a pause past the high-water mark and allows resuming below the low-water mark', () => {
    const log = new OutputLog(limits);
    for (let i = 0; i < 8; i++) log.append(kb(8));
    expect(log.overHighWater).toBe(false);
    log.append(kb(8));
    expect(log.overHighWater).toBe(true);
    log.ack(4);
    expect(log.unackedBytes).toBe(5 * 8 * 1024);
    expect(log.belowLowWater).toBe(false);
    log.ack(8);
    expect(log.belowLowWater).toBe(true);
  });

  it('drops only acknowledged chunks, oldest first, to stay within replayBytes', () => {
    const log = new OutputLog(limits);
    for (let i = 0; i < 40; i++) {
      log.append(kb(8));
      log.ack(log.lastSeq);
    }
    expect(log.retainedBytes).toBeLessThanOrEqual(128 * 1024);
    const { chunks, truncated } = log.resume(0);
    expect(truncated).toBe(true);
    expect(chunks[0]!.seq).toBe(25);
    expect(chunks.at(-1)!.seq).toBe(40);

    const unacked = new OutputLog(limits);
    for (let i = 0; i < 40; i++) unacked.append(kb(8)); // nobody acknowledges: keep everything owed
    expect(unacked.resume(0)).toMatchObject({ truncated: false });
  });

  it('replays exactly the chunks after the one the browser last wrote', () => {
    const log = new OutputLog(limits);
    for (let i = 1; i <= 5; i++) log.append(new Uint8Array([i]));
    const { chunks, truncated } = log.resume(3);
    expect(chunks.map((c) => c.seq)).toEqual([4, 5]);
    expect(truncated).toBe(false);
    expect(log.unackedBytes).toBe(2);
    expect(log.resume(99).chunks).toEqual([]);
  });
});
