import type { Io } from './io.js';

const ESC = '\u001b[';

/**
 * Where `watch` draws. On a terminal: the alternate screen (so the shell's scrollback is left as
 * it was), redrawn in place, lines cut to the terminal's width, cursor hidden until `close()`.
 * Elsewhere (a pipe, a file): one frame after another, as plain text.
 */
export function openScreen(io: Io): { draw(text: string): void; close(): void } {
  const out = io.stdout;
  if (!out.isTTY) return { draw: (text) => out.write(`${text}\n\n`), close() {} };
  out.write(`${ESC}?1049h${ESC}?25l`);
  return {
    draw(text) {
      const width = out.columns || 80;
      const lines = text.split('\n').map((line) => `${line.slice(0, width)}${ESC}K`);
      out.write(`${ESC}H${lines.join('\n')}${ESC}J`);
    },
    close() {
      out.write(`${ESC}?25h${ESC}?1049l`);
    },
  };
}
