import { forceRelease } from '@oncelock/core';
import type { Invocation } from '../args.js';
import { confirm } from '../confirm.js';
import { EXIT, type ExitCode, usageError } from '../exit-codes.js';
import { holderDetails, holderJson } from '../format.js';
import { type Io, json, say } from '../io.js';
import { withStore } from '../with-store.js';

/**
 * `oncelock release <url> <key> --force`: frees a key for its current holder. It releases as the
 * owner it inspected (core's `forceRelease`: the store's compare-and-delete), so a lock someone
 * took meanwhile stays, and a `forced` event goes out on the `oncelock:event` diagnostics channel
 * for an audit hook or APM agent loaded into this process.
 */
export function release(inv: Extract<Invocation, { command: 'release' }>, io: Io): Promise<ExitCode> {
  if (!inv.force) {
    throw usageError('release takes a lock away from a running holder; pass --force to do it');
  }
  return withStore(inv.store, async (store) => {
    const holder = await store.inspect(inv.key);
    if (!holder) {
      if (inv.json) json(io, { key: inv.key, released: false, holder: null });
      else say(io, `"${inv.key}" is free; nothing to release`);
      return EXIT.notHeld;
    }
    if (!inv.json) say(io, holderDetails(inv.key, holder, Date.now()));
    const sure = await confirm(io, `Release "${inv.key}" from ${holder.owner}?`, inv.yes);
    const released = sure && (await forceRelease(store, inv.key, holder));
    if (inv.json) json(io, { key: inv.key, released, holder: holderJson(inv.key, holder) });
    else if (!sure) say(io, 'not released');
    else if (released) say(io, `released "${inv.key}" (owner ${holder.owner}, fence ${holder.fence ?? '-'})`);
    else say(io, `"${inv.key}" expired or changed hands since it was inspected; nothing released`);
    return released ? EXIT.ok : EXIT.notHeld;
  });
}
