// What the lab (parent) and its workers (child processes) say to each other over IPC.

/** How a worker reaches its lock store; every address already points at the worker's own proxy. */
export type BackendSpec =
  | { kind: 'redis'; url: string }
  | { kind: 'redlock'; urls: string[] }
  | { kind: 'postgres'; url: string; schema: string }
  | { kind: 'keyv'; url: string };

export type BackendKind = BackendSpec['kind'];

/** Where protected writes go: the store in the parent (over IPC), or a fenced row in Postgres. */
export type StoreSpec = { kind: 'parent' } | { kind: 'postgres'; url: string; table: string };

export interface WorkerConfig {
  name: string;
  backend: BackendSpec;
  store: StoreSpec;
  /** The contended lease and the resource it protects. */
  key: string;
  ttl: number;
  /** History file (JSON lines, shared by every worker of the run). */
  history: string;
  /** Writes per tenure, and the pause between them. */
  writes: number;
  writeEveryMs: number;
  /** Work between the `assertHeld()` check and the write: the window a pause can fall into. */
  thinkMs: number;
  /** Pause after a release before contending again. */
  restMs: number;
}

/** Worker to parent. `at` is `historyNow()`: wall-clock ms, comparable across processes. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'acquired'; at: number; fence: number | null }
  /** Checked `assertHeld()` and is about to write: the moment a fault is aimed at. */
  | { type: 'writing'; at: number }
  | { type: 'released'; at: number; lost: boolean }
  | { type: 'write'; id: number; fence: number | null; value: string }
  | { type: 'problem'; at: number; message: string };

/** Parent to worker. */
export type ParentMessage =
  | { type: 'go' }
  | { type: 'stop' }
  | { type: 'written'; id: number; accepted: boolean };

export const isMessage =
  <T extends WorkerMessage['type']>(type: T) =>
  (m: unknown): m is Extract<WorkerMessage, { type: T }> =>
    (m as { type?: unknown } | null)?.type === type;
