/**
 * Starts a sandbox command on a real PTY with node-pty. Output stays raw bytes (`encoding: null`)
 * so the splitter, not a string decoder, decides where characters and sequences end.
 */
import { spawn } from 'node-pty';
import type { SpawnPty } from './session-manager.ts';
import type { PtyProcess } from './session.ts';

export const spawnNodePty: SpawnPty = (command, size) => {
  const pty = spawn(command.file, command.args, {
    name: 'xterm-256color',
    cols: size.cols,
    rows: size.rows,
    cwd: '/',
    env: command.env,
    encoding: null,
  });
  const process: PtyProcess = {
    pid: pty.pid,
    // With encoding null node-pty emits Buffers; its typings still say string.
    onData: (listener) => void pty.onData((data) => listener(data as unknown as Uint8Array)),
    onExit: (listener) => void pty.onExit(listener),
    write: (data) => pty.write(data),
    resize: (cols, rows) => pty.resize(cols, rows),
    pause: () => pty.pause(),
    resume: () => pty.resume(),
    kill: (signal) => pty.kill(signal),
  };
  return process;
};
