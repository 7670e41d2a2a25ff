// The root export is the contract suite alone (with the waits it is written with): a backend's
// test imports it without loading child processes, server launchers or the history checker.
// Those are the subpaths ./faults, ./servers, ./history and ./holder-faults.
export * from './contract.js';
export * from './waits.js';
