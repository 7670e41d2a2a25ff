import { postgresBackend } from '@oncelock/postgres';
import { backendContract } from '@oncelock/testkit';
import { dropSchema, PG_URL, testSchema } from './helpers.js';

// Each contender gets its own backend, so its own session: the cross-process case.
const advisory = testSchema('contract_advisory');
backendContract({
  name: 'postgres (advisory mode)',
  create: () => postgresBackend({ connectionString: PG_URL, schema: advisory }),
  teardown: () => dropSchema(advisory),
});

const table = testSchema('contract_table');
backendContract({
  name: 'postgres (table mode)',
  create: () => postgresBackend({ connectionString: PG_URL, schema: table, mode: 'table', listen: PG_URL }),
  teardown: () => dropSchema(table),
});
