import type { Lab, LabKind } from './lab.js';
import { postgresLab } from './postgres.js';
import { clusterLab, controlLab, redlockLab, singleServerLab } from './redis.js';

export { controlKinds, type Lab, type LabKind, labKinds, type Slot } from './lab.js';
export { pgExec } from './postgres.js';

/** Starts the servers and proxies of one lab for `workers` slots. */
export function openLab(kind: LabKind, workers: number, keys: readonly string[]): Promise<Lab> {
  switch (kind) {
    case 'redis':
    case 'keyv':
      return singleServerLab(kind, workers);
    case 'redlock':
      return redlockLab(workers);
    case 'redis-cluster':
      return clusterLab(workers);
    case 'postgres-advisory':
    case 'postgres-pooler':
      return postgresLab(kind, workers, keys);
    case 'control-no-lock':
    case 'control-one-fence':
      return controlLab(kind, workers);
  }
}
