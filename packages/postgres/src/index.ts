// One install gives the whole API: core is re-exported beside the Postgres backend.
export * from '@oncelock/core';
export { type FencedUpdateOptions, fencedUpdate, type Queryable } from './fenced-update.js';
export { ADVISORY_LOCK_ID_VERSION, advisoryLockId } from './lock-id.js';
export type { PostgresBackendOptions, PostgresMode } from './options.js';
export { type PostgresBackend, postgresBackend } from './postgres-backend.js';
export { channelOf, migrationSql, NEWER_SCHEMA, SCHEMA_VERSION } from './schema.js';
export { TOPIC_CHANNEL_VERSION, topicChannel } from './topics.js';
