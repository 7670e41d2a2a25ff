import { setTimeout as sleep } from 'node:timers/promises';
import type { Invocation } from '../args.js';
import { explain } from '../errors.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { byKey, duration, holderJson, holdersTable, type Listed } from '../format.js';
import type { Io } from '../io.js';
import { quitSignal } from '../keys.js';
import { openScreen } from '../screen.js';
import { redact } from '../store.js';
import { withStore } from '../with-store.js';

type Watch = Extract<Invocation, { command: 'watch' }>;

/** Resolves with `work`'s value, or `undefined` as soon as the user quits. */
function unlessQuit<T>(work: Promise<T>, quitted: Promise<undefined>): Promise<T | undefined> {
  work.catch(() => {}); // may settle after a quit, when nobody waits for it
  return Promise.race([work, quitted]);
}

/**
 * `oncelock watch <url>`: the `list` table, again every `--interval` ms, until q or Ctrl-C.
 * The first read must succeed (exit 3 otherwise); a later failure is shown above the last good
 * table, and the watch goes on.
 */
export function watch(inv: Watch, io: Io): Promise<ExitCode> {
  return withStore(inv.store, async (store) => {
    let holders: Listed[] = await store.list(inv.prefix);
    const quit = quitSignal(io);
    const screen = openScreen(io);
    let problem: string | undefined;
    try {
      for (;;) {
        if (inv.json) io.stdout.write(`${JSON.stringify(tick(holders, problem))}\n`);
        else screen.draw(frame(inv, holders, problem));
        const slept = await sleep(inv.interval, true, { signal: quit.signal }).catch(() => false);
        if (!slept) break;
        try {
          const next = await unlessQuit(store.list(inv.prefix), quit.quitted);
          if (next === undefined) break;
          [holders, problem] = [next, undefined];
        } catch (error) {
          problem = explain(error, redact(inv.store.url)).message;
        }
      }
    } finally {
      screen.close();
      quit.dispose();
    }
    return EXIT.ok;
  });
}

const tick = (holders: readonly Listed[], problem: string | undefined) => ({
  at: Date.now(),
  holders: byKey(holders).map((h) => holderJson(h.key, h)),
  ...(problem ? { error: problem } : {}),
});

function frame(inv: Watch, holders: readonly Listed[], problem: string | undefined): string {
  const now = new Date();
  const where = inv.prefix ? ` under "${inv.prefix}"` : '';
  const title = `oncelock watch ${redact(inv.store.url)}${where} · every ${duration(inv.interval)} · ${now.toTimeString().slice(0, 8)}`;
  const body = holders.length === 0 ? 'no locks held' : holdersTable(holders, now.getTime());
  const warn = problem ? `! ${problem} (showing the last good read)\n` : '';
  return `${title}\n${warn}${body}\n${holders.length} held · q or Ctrl-C to quit`;
}
