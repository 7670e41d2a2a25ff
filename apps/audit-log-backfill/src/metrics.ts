/** What one job did, reported by whichever worker ran it (in this process or over IPC). */
export interface JobReport {
  /** Row ids whose repr this job rendered, whether or not its insert then succeeded. */
  processed: number[];
  /** `filled`: its insert landed; `empty`: nothing to do; `failed`: it threw; `busy`: it will run later. */
  outcome: 'filled' | 'empty' | 'failed' | 'busy';
  error?: string;
}

/** The figures the issue asks for, per arm; also the keys of the final JSON line. */
export interface Headline {
  rowsFilled: number;
  /** Rows rendered by more than one job. */
  duplicateWork: number;
  /** Jobs that failed (the naive arm's unique violations). */
  errors: number;
  jobsEnqueued: number;
  /** Most jobs waiting in the queue (ready or delayed) at once. */
  peakQueued: number;
  /** From the start until every row had its repr; `null` if the arm never drained. */
  drainMs: number | null;
}

export interface ArmResult extends Headline {
  rows: number;
  /** Renders beyond the first of each row: the work thrown away. */
  wastedRenders: number;
  jobsRun: number;
  emptyJobs: number;
  busyRetries: number;
  triggers: number;
  skippedTriggers: number;
  firstError?: string;
  /** [ms since start, jobs waiting] and [ms since start, rows missing their repr]. */
  queueSeries: Array<[number, number]>;
  backlogSeries: Array<[number, number]>;
}

/** Collects one arm's figures. Times are monotonic milliseconds since the arm started. */
export class Metrics {
  #t0 = performance.now();
  readonly #rendered = new Map<number, number>();
  readonly queueSeries: Array<[number, number]> = [];
  readonly backlogSeries: Array<[number, number]> = [];
  jobsEnqueued = 0;
  triggers = 0;
  skippedTriggers = 0;
  #peakQueued = 0;
  #jobsRun = 0;
  #emptyJobs = 0;
  #busyRetries = 0;
  #errors = 0;
  #firstError: string | undefined;
  drainMs: number | null = null;

  /** The arm starts now: its workers are up, its trigger is about to fire. */
  begin(): void {
    this.#t0 = performance.now();
  }

  elapsed(): number {
    return performance.now() - this.#t0;
  }

  job(report: JobReport): void {
    for (const id of report.processed) this.#rendered.set(id, (this.#rendered.get(id) ?? 0) + 1);
    if (report.outcome === 'busy') {
      this.#busyRetries++;
      return;
    }
    this.#jobsRun++;
    if (report.outcome === 'empty') this.#emptyJobs++;
    if (report.outcome === 'failed') {
      this.#errors++;
      this.#firstError ??= report.error;
    }
  }

  /** A queue length seen now; `sample` adds it to the chart too. */
  queued(length: number, sample = true): void {
    this.#peakQueued = Math.max(this.#peakQueued, length);
    if (sample) this.queueSeries.push([this.elapsed(), length]);
  }

  backlog(missing: number, arrivalsDone: boolean): void {
    const t = this.elapsed();
    this.backlogSeries.push([t, missing]);
    if (missing === 0 && arrivalsDone) this.drainMs ??= t;
  }

  result(counts: { rows: number; filled: number }): ArmResult {
    let duplicateWork = 0;
    let wastedRenders = 0;
    for (const n of this.#rendered.values()) {
      if (n > 1) duplicateWork++;
      wastedRenders += n - 1;
    }
    return {
      rowsFilled: counts.filled,
      duplicateWork,
      errors: this.#errors,
      jobsEnqueued: this.jobsEnqueued,
      peakQueued: this.#peakQueued,
      drainMs: this.drainMs === null ? null : Math.round(this.drainMs),
      rows: counts.rows,
      wastedRenders,
      jobsRun: this.#jobsRun,
      emptyJobs: this.#emptyJobs,
      busyRetries: this.#busyRetries,
      triggers: this.triggers,
      skippedTriggers: this.skippedTriggers,
      ...(this.#firstError === undefined ? {} : { firstError: this.#firstError }),
      queueSeries: this.queueSeries,
      backlogSeries: this.backlogSeries,
    };
  }
}
