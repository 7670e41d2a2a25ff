export {
  ACQUIRE_BUCKETS,
  type Buckets,
  HOLD_BUCKETS,
  LOOP_PASS_BUCKETS,
  RATE_DELAY_BUCKETS,
} from './buckets.js';
export { MetricsAlreadyRegisteredError } from './errors.js';
export { defaultLockName, type LockName } from './lock-name.js';
export {
  type OpenTelemetryMetrics,
  type OpenTelemetryMetricsOptions,
  openTelemetryMetrics,
} from './opentelemetry.js';
export {
  type PrometheusMetrics,
  type PrometheusMetricsOptions,
  prometheusMetrics,
} from './prometheus.js';
export type { AcquireOutcome, RateOutcome } from './tracker.js';
