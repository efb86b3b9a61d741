import { describe, expect, it } from 'vitest';
import { MAX_COLS, decodeOutputFrame, encodeOutputFrame, parseClientMessage } from './terminal-protocol.ts';

describe('terminal protocol', () => {
  it('round-trips output frames with their sequence number', () => {
    const frame = encodeOutputFrame(0xfffffffe, new Uint8Array([104, 105]));
    expect(decodeOutputFrame(frame)).toEqual({ seq: 0xfffffffe, data: new Uint8Array([104, 105]) });
    expect(decodeOutputFrame(new Uint8Array([2, 0, 0, 0, 1]))).toBeNull();
  });

  it('accepts the four client messages and clamps sizes', () => {
    expect(parseClientMessage('{"t":"hello","v":1,"clientId":"abcdefgh","lastOutputSeq":3,"cols":99999,"rows":0.5}')).toMatchObject({ error: expect.any(String) });
    expect(parseClientMessage('{"t":"hello","v":1,"lastOutputSeq":3,"cols":80,"rows":40}')).toHaveProperty('error');
    expect(parseClientMessage('{"t":"hello","v":1,"clientId":"abcdefgh","lastOutputSeq":3,"cols":99999,"rows":40}')).toEqual({ t: 'hello', v: 1, clientId: 'abcdefgh', lastOutputSeq: 3, cols: MAX_COLS, rows: 40 });
    expect(parseClientMessage('{"t":"input","seq":1,"data":"ls\\r"}')).toEqual({ t: 'input', seq: 1, data: 'ls\r' });
    expect(parseClientMessage('{"t":"resize","cols":120,"rows":30}')).toEqual({ t: 'resize', cols: 120, rows: 30 });
    expect(parseClientMessage('{"t":"ack","seq":7}')).toEqual({ t: 'ack', seq: 7 });
  });

  it('refuses anything else with a reason instead of throwing', () => {
    for (const bad of ['', 'nope', 'null', '[]', '{"t":"exec"}', '{"t":"input","seq":0,"data":"x"}', `{"t":"input","seq":1,"data":"${'x'.repeat(20_000)}"}`]) {
      expect(parseClientMessage(bad)).toHaveProperty('error');
    }
  });
});
