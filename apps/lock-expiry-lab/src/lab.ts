import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyse, type RunResult } from './analyse.js';
import { startEnv } from './env.js';
import type { LabOptions } from './options.js';
import type { BackendKind } from './protocol.js';
import { type RunSettings, runScenario } from './run.js';
import { type ScenarioName, scenarios } from './scenarios.js';
import { renderTimeline } from './timeline.js';

/** Runs each (backend, scenario) pair that applies, writing a timeline per run into `o.out`. */
export async function runLab(
  o: LabOptions,
  only?: ReadonlyArray<[BackendKind, ScenarioName]>,
  progress: (r: RunResult) => void = () => {},
): Promise<RunResult[]> {
  mkdirSync(o.out, { recursive: true });
  const settings: RunSettings = {
    workers: o.workers,
    ttl: o.ttl,
    dir: o.out,
    // A tenure of a few writes spaced a fifth of a TTL apart: long enough to need an extension.
    writes: 5,
    writeEveryMs: Math.round(o.ttl / 5),
    // Long enough that a SIGSTOP aimed at the "about to write" moment lands before the write goes out.
    thinkMs: Math.max(20, Math.round(o.ttl / 6)),
    restMs: Math.round(o.ttl / 10),
    afterTtls: o.afterTtls,
  };
  const results: RunResult[] = [];
  for (const kind of o.backends) {
    const wanted = o.scenarios.filter((s) => !only || only.some(([b, n]) => b === kind && n === s));
    if (wanted.length === 0) continue;
    const env = await startEnv(kind, o.postgresUrl);
    try {
      for (const name of wanted) {
        const scenario = scenarios[name];
        if (!scenario.applies(env)) continue;
        const run = await runScenario(env, scenario, settings);
        const result = analyse(run);
        writeFileSync(join(o.out, `${kind}-${name}.svg`), renderTimeline(run, result));
        results.push(result);
        progress(result);
      }
    } finally {
      await env.close();
    }
  }
  return results;
}
