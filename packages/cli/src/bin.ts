#!/usr/bin/env node
import { main } from './main.js';

const code = await main(process.argv.slice(2), process);
// Exit now: a client of a store that is down may keep a reconnect timer alive. Flush first.
process.stdout.write('', () => process.exit(code));
