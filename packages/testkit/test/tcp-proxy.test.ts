import { InvalidArgumentError } from '@oncelock/core';
import { startTcpProxy, type TcpProxy } from '@oncelock/testkit/faults';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RawClient, rawClient } from './resp.js';

// The proxy sits in front of the shared Redis on 6379; the faults touch only its own connections.

describe('startTcpProxy in front of Redis', () => {
  let proxy: TcpProxy;
  const clients: RawClient[] = [];
  const client = async () => {
    const c = await rawClient(proxy.port);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    proxy = await startTcpProxy({ targetPort: 6379 });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.socket.destroy();
    await proxy.close();
  });

  it('forwards both ways and counts connections', async () => {
    const c = await client();
    expect(await c.command('PING')).toBe('+PONG');
    expect(proxy.connections).toBe(1);
    expect(proxy.url()).toBe(`redis://127.0.0.1:${proxy.port}`);
    expect(proxy.url('postgres://postgres@127.0.0.1:5432/test')).toBe(
      `postgres://postgres@127.0.0.1:${proxy.port}/test`,
    );
  });

  it('adds latency in each direction', async () => {
    const c = await client();
    proxy.setLatency(150);
    const started = performance.now();
    expect(await c.command('PING')).toBe('+PONG');
    // One chunk each way, each held 150 ms (a timer may fire up to 1 ms early).
    expect(performance.now() - started).toBeGreaterThanOrEqual(298);
    proxy.setLatency(0);
    expect(await c.command('PING')).toBe('+PONG');
  });

  it('blackhole stalls a connection without closing it, and lets held bytes through when lifted', async () => {
    const c = await client();
    proxy.blackhole(true);
    await expect(c.command('PING', 300)).rejects.toThrow(/no reply/);
    expect(c.socket.destroyed).toBe(false);
    expect(proxy.connections).toBe(1);
    const reply = c.command('ECHO after', 2_000);
    proxy.blackhole(false);
    // The PING held during the partition is answered first, then the ECHO: order is kept.
    expect(await reply).toBe('+PONG');
  });

  it('reset gives the client ECONNRESET', async () => {
    const c = await client();
    expect(await c.command('PING')).toBe('+PONG');
    proxy.reset();
    expect(await c.ended).toBe('ECONNRESET');
    expect(proxy.connections).toBe(0);
  });

  it('drop ends the connection with a FIN', async () => {
    const c = await client();
    expect(await c.command('PING')).toBe('+PONG');
    proxy.drop();
    expect(await c.ended).toBe('end');
  });

  it('refuse makes new connections fail with ECONNREFUSED, and keeps open ones', async () => {
    const open = await client();
    await proxy.refuse(true);
    await expect(rawClient(proxy.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(await open.command('PING')).toBe('+PONG');
    await proxy.refuse(false);
    expect(await (await client()).command('PING')).toBe('+PONG');
  });

  it('resets the client when the target refuses', async () => {
    const dead = await startTcpProxy({ targetPort: proxy.port });
    await proxy.refuse(true);
    const c = await rawClient(dead.port);
    clients.push(c);
    expect(await c.ended).toBe('ECONNRESET');
    await dead.close();
  });

  it('refuses non-loopback targets and bad settings with InvalidArgumentError', async () => {
    await expect(startTcpProxy({ targetPort: 6379, targetHost: '10.0.0.1' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(startTcpProxy({ targetPort: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => proxy.setLatency(-1)).toThrow(InvalidArgumentError);
    expect(() => proxy.setLatency(Number.NaN)).toThrow(InvalidArgumentError);
  });
});
