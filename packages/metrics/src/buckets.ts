// Default histogram bounds, in seconds, shared by the Prometheus and OpenTelemetry metrics.

/** Acquire: from half a millisecond (an in-process lock) to a long wait. */
export const ACQUIRE_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
/** Hold: from a quick job to an hour-long backfill. */
export const HOLD_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];
/** Rate delay: 0 first (a start granted at once), then from a millisecond to a minute's wait for a slot. */
export const RATE_DELAY_BUCKETS = [0, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Loop pass: from a quick poll that found nothing to a long batch. */
export const LOOP_PASS_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900];

/** The default bounds of each histogram, by its key in the catalogue. */
export const DEFAULT_BUCKETS = {
  acquire: ACQUIRE_BUCKETS,
  hold: HOLD_BUCKETS,
  rateDelay: RATE_DELAY_BUCKETS,
  loopPass: LOOP_PASS_BUCKETS,
} as const;

/** Upper bounds of the histograms, in seconds, each sorted ascending; a histogram left out keeps its default. */
export interface Buckets {
  /** `oncelock_acquire_duration_seconds`. Default `ACQUIRE_BUCKETS`. */
  acquire?: number[];
  /** `oncelock_hold_duration_seconds`. Default `HOLD_BUCKETS`. */
  hold?: number[];
  /** `oncelock_rate_delay_seconds`. Default `RATE_DELAY_BUCKETS`. */
  rateDelay?: number[];
  /** `oncelock_loop_pass_duration_seconds`. Default `LOOP_PASS_BUCKETS`. */
  loopPass?: number[];
}
