import type { RunResult } from './analyse.js';
import { scenarios } from './scenarios.js';

const columns: Array<[string, (r: RunResult) => string | number]> = [
  ['backend', (r) => r.backend],
  ['scenario', (r) => r.scenario],
  ['fences', (r) => (r.fenced ? 'yes' : 'no')],
  ['tenures', (r) => r.tenures],
  ['writes ok/rejected', (r) => `${r.accepted}/${r.rejected}`],
  ['both held (ms)', (r) => `${r.holdOverlaps} (${r.overlapMs})`],
  ['stale writes ok/rejected', (r) => `${r.staleAccepted}/${r.staleRejected}`],
  ['takeover ms', (r) => r.takeoverMs ?? '-'],
  ['errors', (r) => r.problems],
  ['verdict', verdict],
];

/** Fenced backends must never accept a write out of fence order; unfenced ones are reported as seen. */
export function verdict(r: RunResult): string {
  if (r.fenced) return r.clean ? 'safe: fenced' : `FAIL: ${r.fenceRegressions} fence regressions`;
  return r.clean ? 'no overlap seen' : `overlap: ${r.staleAccepted} stale writes accepted`;
}

/** A plain-text table for the console, or a Markdown one for the report file. */
export function formatTable(results: readonly RunResult[], markdown = false): string {
  const cells = results.map((r) => columns.map(([, get]) => String(get(r))));
  const header = columns.map(([name]) => name);
  if (markdown) {
    const line = (row: string[]) => `| ${row.join(' | ')} |`;
    return [line(header), line(header.map(() => '---')), ...cells.map(line)].join('\n');
  }
  const widths = header.map((_, i) => Math.max(...[header, ...cells].map((row) => row[i]!.length)));
  return [header, ...cells].map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

export function formatReport(results: readonly RunResult[], ttl: number): string {
  const used = [...new Set(results.map((r) => r.scenario))];
  return `# lock-expiry-lab report

Child processes contend for one lease (TTL ${ttl} ms) and write to a protected resource with
the lease's fence after every \`assertHeld()\` check. Figures are measured on this run.

${used.map((s) => `- **${s}**: ${scenarios[s].title}`).join('\n')}

${formatTable(results, true)}

Columns: *both held* counts pairs of tenures in which two workers believed they held the lock
at once (and their total length); *stale writes* are writes sent after another worker had been
granted the lock; *takeover* is the time from the fault to the next tenure of another worker.
${
  results.some((r) => r.firstProblem)
    ? `\nErrors the workers saw (first of each run):\n\n${results
        .filter((r) => r.firstProblem)
        .map((r) => `- ${r.backend} ${r.scenario}: ${r.firstProblem}`)
        .join('\n')}\n`
    : ''
}
Timelines: ${results.map((r) => `[${r.backend}-${r.scenario}](${r.backend}-${r.scenario}.svg)`).join(', ')}
`;
}
