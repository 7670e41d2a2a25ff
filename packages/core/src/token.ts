/** A 128-bit owner token from the platform CSPRNG, as 32 lowercase hex characters. */
export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}
