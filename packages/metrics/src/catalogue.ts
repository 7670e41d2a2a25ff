// Every figure the package reports, once: its names (Prometheus, OpenTelemetry), its help text
// and its labels. prometheus.ts and opentelemetry.ts build their instruments from this list.

/** One figure: a histogram (seconds), a counter or a gauge. */
export interface Figure {
  readonly kind: 'histogram' | 'counter' | 'gauge';
  /** The Prometheus name: `oncelock_` prefix, seconds, `_total` on counters. */
  readonly prometheus: string;
  /** The OpenTelemetry name, which its Prometheus exporter turns into the one above. */
  readonly openTelemetry: string;
  readonly help: string;
  readonly labels: readonly string[];
}

const lockAnd = (...more: string[]) => ['lock', 'backend', ...more] as const;

export const figures = {
  acquire: {
    kind: 'histogram',
    prometheus: 'oncelock_acquire_duration_seconds',
    openTelemetry: 'oncelock.acquire.duration',
    help: 'Time from an acquire call to its outcome: acquired, busy (held, no wait), timeout, aborted or error.',
    labels: lockAnd('outcome'),
  },
  hold: {
    kind: 'histogram',
    prometheus: 'oncelock_hold_duration_seconds',
    openTelemetry: 'oncelock.hold.duration',
    help: 'How long leases were held, until released, lost or detached.',
    labels: lockAnd(),
  },
  held: {
    kind: 'gauge',
    prometheus: 'oncelock_leases_held',
    openTelemetry: 'oncelock.leases.held',
    help: 'Leases held by this process.',
    labels: lockAnd(),
  },
  waiters: {
    kind: 'gauge',
    prometheus: 'oncelock_waiters',
    openTelemetry: 'oncelock.waiters',
    help: 'Callers in this process waiting for a held lock.',
    labels: lockAnd(),
  },
  lost: {
    kind: 'counter',
    prometheus: 'oncelock_leases_lost_total',
    openTelemetry: 'oncelock.leases.lost',
    help: 'Leases lost before their owner released them, by reason: not-held, expired, closed.',
    labels: lockAnd('reason'),
  },
  once: {
    kind: 'counter',
    prometheus: 'oncelock_once_results_total',
    openTelemetry: 'oncelock.once.results',
    help: 'How once-guard steps ended: claimed, started, busy, ran, cancelled, failed.',
    labels: ['lock', 'mode', 'status'],
  },
  rateDecisions: {
    kind: 'counter',
    prometheus: 'oncelock_rate_decisions_total',
    openTelemetry: 'oncelock.rate.decisions',
    help: 'Rate-limit decisions: allowed (a start now), reserved (a start after waiting for its slot), refused.',
    labels: lockAnd('outcome'),
  },
  rateDelay: {
    kind: 'histogram',
    prometheus: 'oncelock_rate_delay_seconds',
    openTelemetry: 'oncelock.rate.delay',
    help: 'How long each granted start waits for its rate slot: 0 for a start at once.',
    labels: lockAnd(),
  },
  loopLeading: {
    kind: 'gauge',
    prometheus: 'oncelock_loop_leading',
    openTelemetry: 'oncelock.loop.leading',
    help: 'Loops this process leads (1 for one loop), per lock name: 0 once its term has ended.',
    labels: lockAnd(),
  },
  loopTerms: {
    kind: 'counter',
    prometheus: 'oncelock_loop_terms_total',
    openTelemetry: 'oncelock.loop.terms',
    help: 'Terms this process began as a loop leader: its first start or a takeover.',
    labels: lockAnd(),
  },
  loopPasses: {
    kind: 'counter',
    prometheus: 'oncelock_loop_passes_total',
    openTelemetry: 'oncelock.loop.passes',
    help: "Passes of a loop's body, by outcome: more, idle, failed, lost (the lease ended during the pass).",
    labels: lockAnd('outcome'),
  },
  loopPass: {
    kind: 'histogram',
    prometheus: 'oncelock_loop_pass_duration_seconds',
    openTelemetry: 'oncelock.loop.pass.duration',
    help: "How long each pass of a loop's body took.",
    labels: lockAnd(),
  },
  loopLost: {
    kind: 'counter',
    prometheus: 'oncelock_loop_lost_total',
    openTelemetry: 'oncelock.loop.lost',
    help: "Loop leaders' terms that ended by losing the lease (frozen past its TTL, store unreachable).",
    labels: lockAnd(),
  },
} as const satisfies Record<string, Figure>;

/** The figures of one kind, by key. */
export type FigureOf<K extends Figure['kind']> = {
  [F in keyof typeof figures]: (typeof figures)[F]['kind'] extends K ? F : never;
}[keyof typeof figures];

/** Makers of the instruments of one metrics library, one per kind. */
export interface Makers<H, C, G> {
  histogram(key: FigureOf<'histogram'>): H;
  counter(key: FigureOf<'counter'>): C;
  gauge(key: FigureOf<'gauge'>): G;
}

/** Every figure's instrument, made in the catalogue's order (the order a registry lists them in). */
export function instruments<H, C, G>(
  make: Makers<H, C, G>,
): Record<FigureOf<'histogram'>, H> & Record<FigureOf<'counter'>, C> & Record<FigureOf<'gauge'>, G> {
  const out: Record<string, H | C | G> = {};
  for (const [key, figure] of Object.entries(figures)) out[key] = make[figure.kind](key as never);
  return out as ReturnType<typeof instruments<H, C, G>>;
}
