/** Names the app in error messages. */
export const PKG = 'lock-expiry-lab';
