// The options example of "Writing your own backend" does what the page says.
import { InvalidArgumentError } from '@oncelock/core';
import { describe, expect, it } from 'vitest';
import { sqliteOptions } from '../snippets/own-backend-options.js';

describe('the options example', () => {
  it('fills defaults and refuses a misspelt option with a suggestion', () => {
    expect(sqliteOptions({ url: 'sqlite:locks.db' })).toEqual({
      url: 'sqlite:locks.db',
      prefix: 'locks:',
      timeout: 2000,
    });
    expect(() => sqliteOptions({ url: 'sqlite:locks.db', timout: 5 })).toThrow(InvalidArgumentError);
    expect(() => sqliteOptions({ url: 'sqlite:locks.db', timout: 5 })).toThrow(
      '[my-sqlite-backend] sqliteBackend(): unknown option "timout": did you mean "timeout"?',
    );
    expect(() => sqliteOptions(undefined)).toThrow(/needs an options object/);
  });
});
