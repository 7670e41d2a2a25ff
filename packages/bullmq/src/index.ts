export * from '@oncelock/core';
