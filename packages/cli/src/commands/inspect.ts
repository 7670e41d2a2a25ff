import type { Invocation } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { holderDetails, holderJson } from '../format.js';
import { type Io, json, say } from '../io.js';
import { withStore } from '../with-store.js';

/** `oncelock inspect <url> <key>`: who holds one key; exit 1 when nobody does. */
export function inspect(inv: Extract<Invocation, { command: 'inspect' }>, io: Io): Promise<ExitCode> {
  return withStore(inv.store, async (store) => {
    const holder = await store.inspect(inv.key);
    if (inv.json)
      json(io, holder ? { held: true, ...holderJson(inv.key, holder) } : { held: false, key: inv.key });
    else say(io, holder ? holderDetails(inv.key, holder, Date.now()) : `"${inv.key}" is free`);
    return holder ? EXIT.ok : EXIT.notHeld;
  });
}
