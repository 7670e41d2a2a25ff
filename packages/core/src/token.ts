const TOKEN_BYTES = 16;
const POOL_TOKENS = 256;
// Random bytes are drawn 4 KiB at a time: one CSPRNG call per token cost about 8 µs on Node 20,
// more than the rest of an in-memory lease together. Each byte is used for one token only and
// the pool is drawn again once spent; a child process starts with a pool of its own.
const pool = new Uint8Array(TOKEN_BYTES * POOL_TOKENS);
// The pool as hex, made once per draw: a token is a slice of it, where building each token from
// 16 two-character strings cost about 100 ns (an in-memory lease's whole budget is a few hundred).
// A live token keeps its pool's 8 KiB string alive: at most 8 KiB per 256 leases held.
let hex = '';
let next = POOL_TOKENS;

/** A 128-bit owner token from the platform CSPRNG, as 32 lowercase hex characters. */
export function newToken(): string {
  if (next === POOL_TOKENS) {
    crypto.getRandomValues(pool);
    hex = Buffer.from(pool.buffer, pool.byteOffset, pool.byteLength).toString('hex');
    next = 0;
  }
  const at = next++ * TOKEN_BYTES * 2;
  return hex.slice(at, at + TOKEN_BYTES * 2);
}
