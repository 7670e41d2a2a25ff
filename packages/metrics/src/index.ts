export { MetricsAlreadyRegisteredError } from './errors.js';
export { defaultLockName, type LockName } from './lock-name.js';
export {
  type OpenTelemetryMetrics,
  type OpenTelemetryMetricsOptions,
  openTelemetryMetrics,
} from './opentelemetry.js';
export {
  ACQUIRE_BUCKETS,
  HOLD_BUCKETS,
  type PrometheusMetrics,
  type PrometheusMetricsOptions,
  prometheusMetrics,
} from './prometheus.js';
export type { AcquireOutcome } from './tracker.js';
