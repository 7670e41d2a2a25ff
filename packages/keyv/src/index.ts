export * from '@oncelock/core';
export { keyvBackend } from './keyv-backend.js';
export type { KeyvBackendOptions } from './options.js';
