export * from './contract.js';
export * from './faults/index.js';
export * from './history.js';
export * from './servers/index.js';
