const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
// Reused between calls: the bytes are copied into the string before anyone else can run.
const bytes = new Uint8Array(16);

/** A 128-bit owner token from the platform CSPRNG, as 32 lowercase hex characters. */
export function newToken(): string {
  crypto.getRandomValues(bytes);
  let hex = '';
  for (let i = 0; i < 16; i++) hex += HEX[bytes[i]!];
  return hex;
}
