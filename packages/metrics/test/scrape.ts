// A fresh registry with prometheusMetrics() on it, and a reader of its samples.
import { prometheusMetrics } from '@oncelock/metrics';
import { Registry, type RegistryContentType } from 'prom-client';

/** Attaches metrics to a new registry; `stop()` detaches them. */
export function scraped() {
  const registry = new Registry();
  const metrics = prometheusMetrics({ registry });
  /** The sum of the samples of `name + suffix` whose labels include `labels`. */
  const value = async (name: string, labels: Record<string, string>, suffix = '') => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    return (m?.values ?? [])
      .filter(
        (x) =>
          ((x as { metricName?: string }).metricName ?? name) === `${name}${suffix}` &&
          Object.entries(labels).every(([k, l]) => String(x.labels[k]) === l),
      )
      .reduce((sum, x) => sum + x.value, 0);
  };
  return { registry, metrics, value, stop: () => metrics.stop() };
}

/** Two registries of one content type: one for our metric, one for prom-client's own, to compare. */
export function twoRegistries(contentType: RegistryContentType = Registry.PROMETHEUS_CONTENT_TYPE) {
  const ours = new Registry<RegistryContentType>();
  const theirs = new Registry<RegistryContentType>();
  ours.setContentType(contentType);
  theirs.setContentType(contentType);
  return { ours, theirs };
}
