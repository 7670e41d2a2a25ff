import type { Metric, Registry } from 'prom-client';
import { MetricsAlreadyRegisteredError } from './errors.js';

/**
 * Registers `metrics` on `registry`, all or none: a name already there throws
 * `MetricsAlreadyRegisteredError` instead of prom-client's untyped error. Returns the undo.
 */
export function registerAll(registry: Registry, metrics: readonly Metric[]): () => void {
  const names = metrics.map((m) => (m as unknown as { name: string }).name);
  for (const name of names) if (registry.getSingleMetric(name)) throw new MetricsAlreadyRegisteredError(name);
  for (const m of metrics) registry.registerMetric(m);
  return () => {
    for (const name of names) registry.removeSingleMetric(name);
  };
}
