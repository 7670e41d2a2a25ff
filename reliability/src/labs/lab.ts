import type { Guarantees } from '@oncelock/core';
import { startTcpProxy, type TcpProxy } from '@oncelock/testkit/faults';
import type { CounterSpec } from '../counter/index.js';
import { type BackendSpec, createBackend } from '../targets.js';

/** The backends the torture runs against, by the name its figures use. */
export const labKinds = [
  'redis',
  'redis-cluster',
  'redlock',
  'postgres-advisory',
  'postgres-pooler',
  'keyv',
] as const;
/** Deliberately broken locks (see broken-backend.ts): the checks must catch them. */
export const controlKinds = ['control-no-lock', 'control-one-fence'] as const;
export type LabKind = (typeof labKinds)[number] | (typeof controlKinds)[number];

/** One worker slot's way to its stores: every connection it makes goes through these proxies. */
export interface Slot {
  /** Blackholed and reset together: a partition or a reset cuts the worker off from everything. */
  readonly proxies: readonly TcpProxy[];
  readonly backend: BackendSpec;
  readonly counter: CounterSpec;
}

/**
 * The servers, proxies and specs of one torture run. A lab owns what it starts: `stop()` closes
 * every proxy, stops every server it started and drops every schema it made.
 */
export interface Lab {
  readonly kind: LabKind;
  /** What the backend promises; the checks follow from it. */
  readonly guarantees: Guarantees;
  readonly slots: readonly Slot[];
  /** The same stores without proxies, for checks after the run. */
  readonly direct: { readonly backend: BackendSpec; readonly counter: CounterSpec };
  /** Faults on the servers themselves (a restart, a terminated session), by name; `false`: nothing to do. */
  readonly serverFaults: Readonly<Record<string, (slot: number) => Promise<boolean>>>;
  stop(): Promise<void>;
}

/** Proxies in front of `ports`, one per port, for each of `workers` slots. */
export async function proxiesFor(workers: number, ports: readonly number[]): Promise<TcpProxy[][]> {
  const out: TcpProxy[][] = [];
  for (let i = 0; i < workers; i++) {
    out.push(await Promise.all(ports.map((targetPort) => startTcpProxy({ targetPort }))));
  }
  return out;
}

/** Runs every cleanup, even when one fails, and rethrows the first failure. */
export async function cleanup(steps: ReadonlyArray<() => Promise<unknown> | undefined>): Promise<void> {
  const results = await Promise.allSettled(steps.map(async (step) => step()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** A backend's declared guarantees, from a short-lived instance. */
export async function guaranteesOf(spec: BackendSpec): Promise<Guarantees> {
  const backend = createBackend(spec);
  try {
    return backend.guarantees;
  } finally {
    await backend.close();
  }
}
