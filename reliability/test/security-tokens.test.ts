import { lease, memoryBackend } from '@oncelock/core';
import { newToken } from '@oncelock/core/backend';
import { afterEach, describe, expect, it, vi } from 'vitest';

// Claim: owner tokens are unguessable, 128 bits from the platform CSPRNG. A token is the only
// proof of ownership (anyone who has it can extend and release), so this is a security claim.

const N = 10_000;

describe('owner tokens', () => {
  afterEach(() => vi.restoreAllMocks());

  it('are 32 lowercase hex characters (128 bits) and never repeat', async () => {
    const backend = memoryBackend();
    const tokens = new Set<string>();
    for (let i = 0; i < N; i++) tokens.add(newToken());
    for (let i = 0; i < 200; i++) {
      const l = await lease(backend, `token:${i}`, { ttl: 1000 });
      tokens.add(l.token);
      await l.release();
    }
    expect(tokens.size).toBe(N + 200);
    for (const t of tokens) expect(t).toMatch(/^[0-9a-f]{32}$/);
    await backend.close();
  });

  it('have every one of their 128 bits set about half the time', () => {
    // Each bit is a fair coin over N tokens: its count of ones lies within 5 standard deviations
    // of N/2 unless the source is biased (a fixed byte, a clock, a counter would all fail).
    const ones = new Array<number>(128).fill(0);
    for (let i = 0; i < N; i++) {
      const t = newToken();
      for (let bit = 0; bit < 128; bit++) {
        const nibble = Number.parseInt(t[bit >> 2]!, 16);
        ones[bit]! += (nibble >> (3 - (bit & 3))) & 1;
      }
    }
    const sigma = Math.sqrt(N / 4);
    for (const [bit, count] of ones.entries()) {
      expect(Math.abs(count - N / 2), `bit ${bit}`).toBeLessThan(5 * sigma);
    }
  });

  it('come from crypto.getRandomValues, not from Math.random', async () => {
    // Math.random pinned to one value: tokens still differ, so they do not come from it.
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const backend = memoryBackend();
    const a = await lease(backend, 'token:a', { ttl: 1000 });
    const b = await lease(backend, 'token:b', { ttl: 1000 });
    expect(a.token).not.toBe(b.token);
    await Promise.all([a.release(), b.release()]);
    vi.restoreAllMocks();

    // The CSPRNG pinned to zeros: tokens follow it, so it is their source. They are cut from a
    // pool of 4 KiB drawn at once, so the bytes drawn before the pin run out first.
    const draws = vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation((array) => {
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength).fill(0);
      return array;
    });
    let spent = 0;
    while (spent < 300 && newToken() !== '0'.repeat(32)) spent++;
    expect(spent).toBeLessThan(256);
    expect(draws).toHaveBeenCalledTimes(1);
    expect(newToken()).toBe('0'.repeat(32));
    const c = await lease(backend, 'token:c', { ttl: 1000 });
    expect(c.token).toBe('0'.repeat(32));
    await c.release();
    await backend.close();
  });
});
