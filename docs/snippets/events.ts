// Turning core's events into logs and metrics.
// #region events
import { onEvent } from '@oncelock/core';

/**
 * Whatever metrics library you use: prom-client, OpenTelemetry, StatsD...
 */
export interface Metrics {
  count(name: string, labels: Record<string, string>): void;
  observe(name: string, ms: number, labels: Record<string, string>): void;
}

export function instrument(
  metrics: Metrics,
  log: (line: string) => void,
): () => void {
  const stops = [
    onEvent('acquired', (e) =>
      metrics.observe('oncelock_wait_ms', e.waitedMs, {
        backend: e.backend,
      }),
    ),
    onEvent('skipped', (e) =>
      metrics.count('oncelock_skipped_total', {
        backend: e.backend,
        mode: e.mode,
      }),
    ),
    onEvent('lost', (e) => {
      metrics.count('oncelock_lost_total', { backend: e.backend });
      log(
        `lease on ${e.key} lost after ${Math.round(e.heldMs)} ms: ` +
          e.reason,
      );
    }),
    onEvent('released', (e) =>
      metrics.observe('oncelock_held_ms', e.heldMs, {
        backend: e.backend,
      }),
    ),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}
// #endregion events
