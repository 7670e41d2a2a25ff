import { emitKeypressEvents } from 'node:readline';
import type { Io } from './io.js';

/**
 * An AbortSignal that fires when the user asks to quit: `q` or Ctrl-C on a terminal (read in raw
 * mode, so no Enter is needed), or SIGINT/SIGTERM otherwise. `dispose()` gives the terminal back
 * as it was.
 */
export function quitSignal(io: Io): { signal: AbortSignal; quitted: Promise<undefined>; dispose(): void } {
  const quit = new AbortController();
  const quitted = new Promise<undefined>((resolve) => {
    quit.signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
  const stop = () => quit.abort();
  const onKey = (_: string, key: { name?: string; ctrl?: boolean } | undefined) => {
    if (key?.name === 'q' || (key?.ctrl && key.name === 'c')) stop();
  };
  const raw = io.stdin.isTTY === true;
  if (raw) {
    emitKeypressEvents(io.stdin);
    io.stdin.setRawMode(true);
    io.stdin.on('keypress', onKey);
    io.stdin.resume();
  }
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return {
    signal: quit.signal,
    quitted,
    dispose() {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (raw) {
        io.stdin.off('keypress', onKey);
        io.stdin.setRawMode(false);
        io.stdin.pause();
      }
    },
  };
}
