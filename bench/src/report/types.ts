/** A table of a suite's report, already formatted. */
export interface Table {
  readonly caption?: string;
  readonly head: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
}

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** What to print beside the bar; default: the value with the chart's unit. */
  readonly text?: string;
}

/** A horizontal bar chart, written as `file` (an SVG) next to results.md. */
export interface Chart {
  readonly file: string;
  readonly title: string;
  readonly unit: string;
  readonly bars: readonly Bar[];
  /** A logarithmic axis, for figures that span orders of magnitude. */
  readonly log?: boolean;
}

/** What one suite measured: raw figures for results.json and its part of the report. */
export interface SuiteResult {
  readonly id: string;
  readonly title: string;
  /** What was measured and how, in a paragraph of markdown. */
  readonly about: string;
  readonly tables: readonly Table[];
  readonly charts: readonly Chart[];
  /** Things a reader must know to read the figures (an arm that could not run, a setting). */
  readonly notes: readonly string[];
  readonly data: unknown;
}
