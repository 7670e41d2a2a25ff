// Starts the local Redis and PostgreSQL the tests need, when they are installed but down.
import { execSync } from 'node:child_process';
import { connect } from 'node:net';

const probe = (port) =>
  new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

const services = [
  {
    name: 'Redis',
    port: 6379,
    start:
      'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
  },
  {
    name: 'PostgreSQL',
    port: 5432,
    start: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  },
];

export async function ensureServices() {
  for (const s of services) {
    if (await probe(s.port)) continue;
    console.log(`${s.name} is down on 127.0.0.1:${s.port}; starting it`);
    try {
      execSync(s.start, { stdio: 'inherit', shell: '/bin/bash' });
    } catch (error) {
      console.error(`could not start ${s.name}: ${error.message}`);
    }
    for (let i = 0; i < 50 && !(await probe(s.port)); i++) await new Promise((r) => setTimeout(r, 200));
    if (!(await probe(s.port))) console.error(`${s.name} is still down: its tests will fail`);
  }
}
