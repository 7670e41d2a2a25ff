import { InvalidArgumentError } from '@oncelock/core';

/** The registry already holds a metric of this name: `prometheusMetrics()` was called twice on it. */
export class MetricsAlreadyRegisteredError extends InvalidArgumentError {
  /** The name of the metric the registry already had: `oncelock_leases_held`. */
  readonly metric: string;
  /**
   * @param metric - The name of the metric the registry already had.
   */
  constructor(metric: string) {
    super(
      `the registry already has a metric "${metric}": call prometheusMetrics() once per registry, ` +
        'or stop() the first one before registering again',
      { pkg: '@oncelock/metrics' },
    );
    this.metric = metric;
  }
}
