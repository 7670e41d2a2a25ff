import { randomUUID } from 'node:crypto';
import { lease, redisBackend } from '@oncelock/redis';
import { redisUrl } from '@oncelock/testkit/servers';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BIN } from './run.js';
import { Terminal } from './tmux.js';

// oncelock in a real terminal: tmux gives it a pty of a fixed size, types keys at it and reads
// the screen back. Every tmux server is killed after its test, whatever happened.
const backend = redisBackend({ url: redisUrl });
afterAll(() => backend.close());
let term: Terminal;
afterEach(() => term.close());

const run = (...args: string[]) => [process.execPath, BIN, ...args];

describe('oncelock in a terminal (tmux)', () => {
  it('watch shows a lease while it is held, drops it when released, and q restores the terminal and exits 0', async () => {
    const ns = `cli-${randomUUID().slice(0, 8)}:`;
    term = new Terminal();
    await term.start(run('watch', redisUrl, '--prefix', ns, '--interval', '200'));
    await term.until((s) => s.includes('no locks held'), 'the empty table');
    expect(await term.pane()).toEqual({ alternate: true, cursor: false });

    const l = await lease(backend, `${ns}nightly-report`, { ttl: 30_000 });
    const held = await term.until((s) => s.includes(`${ns}nightly-report`), 'the lease on screen');
    expect(held).toMatch(new RegExp(`│ ${ns}nightly-report │ ${l.token} │\\s+${l.fence} │`));
    expect(held).toContain('1 held · q or Ctrl-C to quit');

    await l.release();
    await term.until((s) => !s.includes('nightly-report') && s.includes('no locks held'), 'the key to go');

    await term.keys('q');
    expect(await term.exited()).toBe(0);
    // Back on the main screen, with the cursor: the table is gone with the alternate screen.
    expect(await term.pane()).toEqual({ alternate: false, cursor: true });
    expect(await term.screen()).not.toContain('oncelock watch');
  });

  it('Ctrl-C quits watch with exit 0 too', async () => {
    term = new Terminal();
    await term.start(run('watch', redisUrl, '--prefix', `cli-${randomUUID().slice(0, 8)}:`));
    await term.until((s) => s.includes('q or Ctrl-C to quit'), 'the watch screen');
    await term.keys('C-c');
    expect(await term.exited()).toBe(0);
    expect(await term.pane()).toEqual({ alternate: false, cursor: true });
  });

  it('release asks first; a lock that changed hands while it asked is left to its new holder (exit 1)', async () => {
    const key = `cli-${randomUUID().slice(0, 8)}:import`;
    const first = await lease(backend, key, { ttl: 30_000 });
    term = new Terminal();
    await term.start(run('release', redisUrl, key, '--force'));
    await term.until((s) => s.includes(`Release "${key}" from ${first.token}? [y/N]`), 'the question');
    // Meanwhile the holder finishes and another worker takes the key.
    await first.release();
    await using second = await lease(backend, key, { ttl: 30_000 });
    await term.keys('y', 'Enter');
    expect(await term.exited()).toBe(1);
    expect(await term.screen()).toContain(
      `"${key}" expired or changed hands since it was inspected; nothing released`,
    );
    expect((await backend.inspect(key))?.owner).toBe(second.token);
  });

  it('release answered "n" releases nothing (exit 1)', async () => {
    const key = `cli-${randomUUID().slice(0, 8)}:import`;
    await using l = await lease(backend, key, { ttl: 30_000 });
    term = new Terminal();
    await term.start(run('release', redisUrl, key, '--force'));
    await term.until((s) => s.includes('[y/N]'), 'the question');
    await term.keys('n', 'Enter');
    expect(await term.exited()).toBe(1);
    expect(await term.screen()).toContain('not released');
    expect((await backend.inspect(key))?.owner).toBe(l.token);
  });
});
