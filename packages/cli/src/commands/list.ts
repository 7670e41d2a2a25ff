import type { Invocation } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { byKey, holderJson, holdersTable } from '../format.js';
import { type Io, json, say } from '../io.js';
import { withStore } from '../with-store.js';

/** `oncelock list <url> [--prefix p]`: every holder, in one round trip. */
export function list(inv: Extract<Invocation, { command: 'list' }>, io: Io): Promise<ExitCode> {
  return withStore(inv.store, async (store) => {
    const holders = byKey(await store.list(inv.prefix));
    if (inv.json)
      json(
        io,
        holders.map((h) => holderJson(h.key, h)),
      );
    else if (holders.length === 0)
      say(io, inv.prefix ? `no locks held under "${inv.prefix}"` : 'no locks held');
    else say(io, holdersTable(holders, Date.now()));
    return EXIT.ok;
  });
}
