import type { SuiteResult } from './types.js';

/** One performance claim and what this run measured against it. */
export interface TargetResult {
  readonly target: string;
  readonly measured: string;
  /** null: not measured in this run (a suite or an arm did not run). */
  readonly met: boolean | null;
}

export function evaluateTargets(_suites: readonly SuiteResult[]): TargetResult[] {
  return [];
}
