// Starts the local Redis and PostgreSQL the tests need, when they are installed but down. The
// addresses come from the variables @oncelock/testkit/servers reads (same names, same defaults):
// a service elsewhere is only probed, never started.
import { execSync } from 'node:child_process';
import { connect } from 'node:net';

const redisUrl = new URL(process.env.ONCELOCK_REDIS_URL ?? 'redis://127.0.0.1:6379');
const postgresUrl = new URL(process.env.ONCELOCK_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const local = (url) => ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);

const probe = (host, port) =>
  new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    // An address that drops packets would otherwise hold the run for the kernel's connect timeout.
    s.setTimeout(2000, () => {
      s.destroy();
      resolve(false);
    });
  });

const services = [
  {
    name: 'Redis',
    url: redisUrl,
    port: Number(redisUrl.port || 6379),
    start: `redis-server --daemonize yes --bind 127.0.0.1 -::1 --port ${redisUrl.port || 6379} --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log`,
  },
  {
    name: 'PostgreSQL',
    url: postgresUrl,
    port: Number(postgresUrl.port || 5432),
    // The cluster's own configuration decides its port: started only where that is the one asked for.
    start: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  },
];

export async function ensureServices() {
  for (const s of services) {
    const host = s.url.hostname.replace(/^\[|\]$/g, '');
    const up = () => probe(host, s.port);
    if (await up()) continue;
    if (!local(s.url)) {
      console.error(`${s.name} is down on ${s.url.host}, which is not this machine: its tests will fail`);
      continue;
    }
    console.log(`${s.name} is down on ${s.url.host}; starting it`);
    try {
      execSync(s.start, { stdio: 'inherit', shell: '/bin/bash' });
    } catch (error) {
      console.error(`could not start ${s.name}: ${error.message}`);
    }
    for (let i = 0; i < 50 && !(await up()); i++) await new Promise((r) => setTimeout(r, 200));
    if (!(await up())) console.error(`${s.name} is still down: its tests will fail`);
  }
}
