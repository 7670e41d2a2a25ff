import {
  Counter,
  type CounterConfiguration,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';
import { labelsOf } from './histogram.js';

/** The count of one label set: callers add to `value` directly. */
export interface CountCell {
  readonly labels: Readonly<Record<string, string>>;
  value: number;
}

/** The fields prom-client's `Metric` sets, which its types leave out. */
interface Meta {
  name: string;
  help: string;
  type: string;
  aggregator: string;
}

/**
 * A prom-client `Counter` whose label sets are resolved once, as `CellHistogram` does for
 * histograms: prom-client's `inc()` hashes and validates its labels on every call, a large part
 * of a rate decision on the memory backend; `cell()` does that once and a count is `value++`.
 * A cell is exposed from the moment it is made, at 0 until counted: the tracker makes the cells
 * of every outcome together, so `increase()` in PromQL sees a series's first event (a series that
 * appears at 1 hides it). `reset()` sets every cell back to 0.
 */
export class CellCounter<T extends string> extends Counter<T> {
  readonly #names: readonly string[];
  readonly #cells = new Map<string, CountCell>();

  constructor(config: CounterConfiguration<T>) {
    super(config);
    this.#names = config.labelNames ?? [];
  }

  /** The cell of one label set (values in the order of `labelNames`), made on first use. */
  cell(...values: string[]): CountCell {
    const id = values.join('\u0000');
    let cell = this.#cells.get(id);
    if (!cell) {
      cell = { labels: labelsOf(this.#names, values), value: 0 };
      this.#cells.set(id, cell);
    }
    return cell;
  }

  override reset(): void {
    super.reset();
    // prom-client's constructor calls reset() before this class's fields exist.
    if (!(#cells in this)) return;
    for (const cell of this.#cells.values()) cell.value = 0;
  }

  override async get(): Promise<MetricObjectWithValues<MetricValue<T>>> {
    // As prom-client's Counter: one `{ value, labels }` per label set, in the order they were made.
    // The fields are read now: an OpenMetrics registry renames a counter (drops `_total`) at each scrape.
    const { name, help, type, aggregator } = this as unknown as Meta;
    const values = [...this.#cells.values()].map(({ labels, value }) => ({ value, labels }));
    return { name, help, type, aggregator, values } as unknown as MetricObjectWithValues<MetricValue<T>>;
  }
}
