// The code of the Rate limits page does what the page says, on the in-memory backend.
import { memoryBackend } from '@oncelock/core';
import { expect, it } from 'vitest';
import { pacedLookups, sendOrDefer } from '../snippets/rate-limits.js';

it('paces lookups per tenant: a call waits for its slot, another tenant does not', async () => {
  const backend = memoryBackend();
  const lookup = pacedLookups(backend, {
    async lookup(tenant, address) {
      return `${tenant}:${address}`;
    },
  });
  const results = await Promise.all([lookup('acme', 'a'), lookup('acme', 'b'), lookup('globex', 'c')]);
  expect(results.map((r) => r.status === 'ran' && r.value)).toEqual(['acme:a', 'acme:b', 'globex:c']);
  await backend.close();
});

it('sends 1 + burst at once, reserves slots up to wait ahead, and defers the rest', async () => {
  // The store's clock stands still, so every decision is known: 11 at once, then one slot
  // every 1000 / 70 ms up to 250 ms ahead (17 more), then the next slot is 258 ms away.
  const backend = memoryBackend({ clock: () => 0 });
  const deferred: number[] = [];
  let sent = 0;
  const outbox = {
    async send() {
      sent++;
    },
    async later(_to: string, delayMs: number) {
      deferred.push(delayMs);
    },
  };
  const signal = new AbortController().signal;
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) => sendOrDefer(backend, outbox, `user${i}@example.com`, signal)),
  );
  expect(results.filter((r) => r === 'sent')).toHaveLength(28);
  expect(sent).toBe(28);
  expect(deferred).toEqual(Array(22).fill(258));
  await backend.close();
});
