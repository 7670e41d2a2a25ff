import { checkKey, MAX_KEY_LENGTH } from '@oncelock/core/backend';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('checkKey', () => {
  it('takes a key exactly when its UTF-8 form fits in MAX_KEY_LENGTH bytes', () => {
    // Units of 1 to 4 UTF-8 bytes, so lengths land on both sides of the limit in every mix.
    const unit = fc.constantFrom('a', 'é', '€', '𝄞');
    fc.assert(
      fc.property(fc.array(unit, { minLength: 1, maxLength: 1100 }), (units) => {
        const key = units.join('');
        const bytes = Buffer.byteLength(key, 'utf8');
        if (bytes <= MAX_KEY_LENGTH) expect(checkKey(key)).toBe(key);
        else expect(() => checkKey(key)).toThrow(`is ${bytes} bytes long in UTF-8`);
      }),
    );
  });

  it('refuses a key one byte over the limit, and takes one at it', () => {
    expect(checkKey('€'.repeat(MAX_KEY_LENGTH / 4) + 'a'.repeat(MAX_KEY_LENGTH / 4))).toHaveLength(512);
    expect(() => checkKey(`${'€'.repeat(341)}ab`)).toThrow('is 1025 bytes long');
    expect(checkKey(`${'€'.repeat(341)}a`)).toHaveLength(342);
  });
});
