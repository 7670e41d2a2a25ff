import { memoryBackend } from '@oncelock/core';
import { Mutex } from 'async-mutex';
import type { ArmSpec, LockArm } from './arm.js';
import { backendOnlyArm, oncelockArm } from './oncelock.js';

/** async-mutex, the usual in-process lock: one Mutex per key. */
function asyncMutexArm(): LockArm {
  const mutexes = new Map<string, Mutex>();
  return {
    async acquire(key) {
      const mutex = mutexes.get(key) ?? new Mutex();
      mutexes.set(key, mutex);
      if (mutex.isLocked()) return null;
      const release = await mutex.acquire();
      return { release };
    },
    close: async () => mutexes.clear(),
  };
}

export function memoryArms(): ArmSpec[] {
  return [
    {
      id: 'async-mutex',
      label: 'async-mutex (floor)',
      floor: true,
      waits: false,
      make: async () => asyncMutexArm(),
    },
    {
      id: 'oncelock',
      label: 'oncelock memoryBackend',
      waits: false,
      make: async () => oncelockArm(memoryBackend()),
    },
    {
      id: 'oncelock-backend',
      label: 'breakdown: memoryBackend calls without lease()',
      waits: false,
      breakdown: true,
      make: async () => backendOnlyArm(memoryBackend()),
    },
  ];
}
