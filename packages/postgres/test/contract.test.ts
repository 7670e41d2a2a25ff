import { type PostgresBackend, type PostgresBackendOptions, postgresBackend } from '@oncelock/postgres';
import { backendContract } from '@oncelock/testkit';
import { postgresUrl } from '@oncelock/testkit/servers';
import { dropSchema, testSchema } from './helpers.js';

// A second contender is a backend that has been running: its pool and lock session are open.
async function running(options: PostgresBackendOptions): Promise<PostgresBackend> {
  const b = postgresBackend(options);
  await b.inspect('warm-up');
  await b.extend({ key: 'warm-up', owner: 'warm-up', ttl: 1000 });
  return b;
}

// Every grant is a synchronous commit; on a loaded machine, 300 ms TTLs leave too little room.
const timeScale = 2;

// Each contender gets its own backend, so its own session: the cross-process case.
const advisory = testSchema('contract_advisory');
const advisoryOptions: PostgresBackendOptions = { connectionString: postgresUrl, schema: advisory };
backendContract({
  name: 'postgres (advisory mode)',
  create: () => postgresBackend(advisoryOptions),
  peer: () => running(advisoryOptions),
  timeScale,
  teardown: () => dropSchema(advisory),
});

const table = testSchema('contract_table');
const tableOptions: PostgresBackendOptions = {
  connectionString: postgresUrl,
  schema: table,
  mode: 'table',
  listen: postgresUrl,
};
backendContract({
  name: 'postgres (table mode)',
  create: () => postgresBackend(tableOptions),
  peer: () => running(tableOptions),
  timeScale,
  teardown: () => dropSchema(table),
});
