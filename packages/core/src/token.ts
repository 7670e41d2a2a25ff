const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const TOKEN_BYTES = 16;
// Random bytes are drawn 4 KiB at a time: one CSPRNG call per token cost about 8 µs on Node 20,
// more than the rest of an in-memory lease together. Each byte is used for one token only and
// the pool is refilled once spent; a child process starts with a pool of its own.
const pool = new Uint8Array(TOKEN_BYTES * 256);
let offset = pool.length;

/** A 128-bit owner token from the platform CSPRNG, as 32 lowercase hex characters. */
export function newToken(): string {
  if (offset + TOKEN_BYTES > pool.length) {
    crypto.getRandomValues(pool);
    offset = 0;
  }
  let hex = '';
  for (let i = offset; i < offset + TOKEN_BYTES; i++) hex += HEX[pool[i]!];
  offset += TOKEN_BYTES;
  return hex;
}
