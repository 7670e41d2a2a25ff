// The code of the Concurrency limits page does what the page says, on the in-memory backend.
import { memoryBackend } from '@oncelock/core';
import { expect, it } from 'vitest';
import { exportTenant, limitedCharges } from '../snippets/limits.js';

it('lets at most 5 charges of one merchant run at once; the others wait their turn', async () => {
  const backend = memoryBackend();
  let running = 0;
  let most = 0;
  const charge = limitedCharges(backend, {
    async charge(merchant, cents) {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 20));
      running--;
      return `${merchant}:${cents}`;
    },
  });
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => charge('acme', i)));
  expect(results.every((r) => r.status === 'ran')).toBe(true);
  expect(most).toBe(5);
  await backend.close();
});

it('hands each export a permit with its own, increasing fence', async () => {
  const backend = memoryBackend();
  const fences: number[] = [];
  await Promise.all(
    Array.from({ length: 4 }, () =>
      exportTenant(backend, 'acme', async (fence) => {
        fences.push(fence);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }),
    ),
  );
  expect(new Set(fences).size).toBe(4);
  await backend.close();
});
