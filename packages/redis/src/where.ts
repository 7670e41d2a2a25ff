/** The package name every error of this package carries. */
export const PKG = '@oncelock/redis';
