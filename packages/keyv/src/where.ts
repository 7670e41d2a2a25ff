/** Names this backend in every error it raises: `[@oncelock/keyv keyv] ...`. */
export const where = { backend: 'keyv', pkg: '@oncelock/keyv' } as const;
