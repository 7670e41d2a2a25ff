import { seededRandom } from '@oncelock/testkit/faults';

/** One row of the audit log, as it arrives: everything but its human-readable repr. */
export interface AuditRow {
  id: number;
  actor: string;
  action: 'created' | 'updated' | 'deleted';
  objectType: string;
  objectId: number;
}

/** The same rows for both arms: a backlog present at the start, then arrivals in even waves. */
export interface Workload {
  backlog: AuditRow[];
  /** Each wave lands `atMs` after the arm starts. */
  waves: Array<{ atMs: number; rows: AuditRow[] }>;
  total: number;
}

const actors = ['alice', 'bob', 'carol', 'dmitri', 'eve', 'farah', 'gus', 'hana'];
const actions = ['created', 'updated', 'deleted'] as const;
const objectTypes = ['Invoice', 'Customer', 'Order', 'Refund', 'ApiKey', 'Webhook'];

export function generateWorkload(p: {
  backlog: number;
  arrivals: number;
  arrivalMs: number;
  seed: number;
}): Workload {
  // Seeded: both arms, and every run with one seed, see the same rows.
  const next = seededRandom(p.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  let id = 0;
  const row = (): AuditRow => ({
    id: ++id,
    actor: pick(actors),
    action: pick(actions),
    objectType: pick(objectTypes),
    objectId: 1 + Math.floor(next() * 100_000),
  });
  const backlog = Array.from({ length: p.backlog }, row);
  // One wave every 100 ms (or one wave at once if there is no arrival window).
  const waveCount = p.arrivals === 0 ? 0 : Math.max(1, Math.min(p.arrivals, Math.floor(p.arrivalMs / 100)));
  const waves: Workload['waves'] = [];
  for (let w = 0; w < waveCount; w++) {
    const size = Math.floor(((w + 1) * p.arrivals) / waveCount) - Math.floor((w * p.arrivals) / waveCount);
    waves.push({
      atMs: Math.round(((w + 1) * p.arrivalMs) / waveCount),
      rows: Array.from({ length: size }, row),
    });
  }
  return { backlog, waves, total: id };
}

/** The repr a job renders for a row: what an admin page shows instead of raw ids. */
export function renderRepr(row: AuditRow): string {
  return `${row.actor} ${row.action} ${row.objectType} #${row.objectId}`;
}
