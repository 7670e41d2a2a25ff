import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from '@oncelock/core';
import { killRedisClients, restartRedis } from '@oncelock/testkit/faults';
import { type RedisServer, startRedisServer } from '@oncelock/testkit/servers';
import { afterAll, describe, expect, it } from 'vitest';
import { type RawClient, rawClient } from './resp.js';

async function named(port: number, name: string): Promise<RawClient> {
  const client = await rawClient(port);
  expect(await client.command(`CLIENT SETNAME ${name}`)).toBe('+OK');
  return client;
}

describe('killRedisClients on the shared Redis', () => {
  const clients: RawClient[] = [];
  afterAll(() => {
    for (const c of clients) c.socket.destroy();
  });

  it('kills only the connections that match, by name or by predicate', async () => {
    const victim = `oncelock-victim-${randomUUID()}`;
    const [doomed, bystander] = [
      await named(6379, victim),
      await named(6379, `oncelock-bystander-${randomUUID()}`),
    ];
    clients.push(doomed, bystander);
    const id = Number((await doomed.command('CLIENT ID')).slice(1));
    expect(await killRedisClients(6379, { name: victim })).toEqual([id]);
    expect(await doomed.ended).toBe('end');
    expect(await bystander.command('PING')).toBe('+PONG');

    const otherName = `oncelock-victim-${randomUUID()}`;
    const other = await named(6379, otherName);
    clients.push(other);
    const killed = await killRedisClients(6379, (client) => client.name === otherName);
    expect(killed).toHaveLength(1);
    expect(await other.ended).toBe('end');
    expect(await killRedisClients(6379, { name: victim })).toEqual([]);
  });

  it('refuses an empty filter and a bad port with InvalidArgumentError', async () => {
    await expect(killRedisClients(6379, {})).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(killRedisClients(6379, { name: undefined })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(killRedisClients(70_000, { name: 'x' })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('restartRedis', () => {
  const servers: RedisServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.stop();
  });

  async function seeded(): Promise<RedisServer> {
    const server = await startRedisServer();
    servers.push(server);
    const client = await rawClient(server.port);
    expect(await client.command('SET fence 41')).toBe('+OK');
    client.socket.destroy();
    return server;
  }

  async function get(port: number, key: string): Promise<string> {
    const client = await rawClient(port);
    try {
      return await client.command(`GET ${key}`);
    } finally {
      client.socket.destroy();
    }
  }

  it('restarts a server started with startRedisServer: a new process with no keys', async () => {
    const server = await seeded();
    const before = server.pid;
    const connected = await rawClient(server.port);
    expect(await restartRedis(server)).toBe(server);
    expect(server.pid).not.toBe(before);
    expect(await connected.ended).toMatch(/^(end|ECONNRESET)$/); // the old process is gone
    expect(await get(server.port, 'fence')).toBe('$-1');
  });

  it('restarts the server on a port with SHUTDOWN NOSAVE and hands back the new one', async () => {
    const server = await seeded();
    const restarted = await restartRedis(server.port);
    servers.push(restarted);
    expect(restarted.port).toBe(server.port);
    expect(restarted.pid).not.toBe(server.pid);
    expect(() => process.kill(server.pid, 0)).toThrow(/ESRCH/);
    expect(await get(server.port, 'fence')).toBe('$-1');
  });

  it('never restarts the shared Redis on 6379', async () => {
    await expect(restartRedis(6379)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await get(6379, `oncelock-absent-${randomUUID()}`)).toBe('$-1');
  });
});
