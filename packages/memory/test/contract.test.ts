import { memoryBackend } from '@oncelock/memory';
import { backendContract } from '@oncelock/testkit';

// Separate memory backends share nothing, so contenders share the first one.
backendContract({ name: 'memory', create: () => memoryBackend(), peer: (first) => first });
