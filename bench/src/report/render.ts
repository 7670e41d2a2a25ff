import type { RunDescription } from '../meta.js';
import { markdownTable } from './markdown.js';
import type { TargetResult } from './targets.js';
import type { SuiteResult } from './types.js';

/** results.md: the targets with the measured ratios beside them, then each suite. */
export function renderReport(
  meta: RunDescription,
  targets: readonly TargetResult[],
  suites: readonly SuiteResult[],
): string {
  const out: string[] = ['# oncelock benchmarks', ''];
  out.push(
    `Measured ${meta.date.slice(0, 10)} with the \`${meta.profile}\` profile${meta.commit ? ` at commit \`${meta.commit}\`` : ''}: ` +
      `${meta.cpu}, ${meta.platform}, Node ${meta.node}, Redis ${meta.redis}, PostgreSQL ${meta.postgres}.`,
    '',
    'Every comparison runs its contenders in the same run, interleaved round by round, so that machine ' +
      'noise falls on all of them alike. Absolute times depend on the machine; read the ratios.',
    '',
    `Libraries: ${Object.entries(meta.libraries)
      .map(([name, v]) => `${name} ${v}`)
      .join(', ')}.`,
    '',
  );
  if (targets.length > 0) {
    out.push('## Targets', '');
    out.push(
      markdownTable({
        head: ['target', 'measured', 'met'],
        rows: targets.map((t) => [
          t.target,
          t.measured,
          t.met === null ? 'not measured' : t.met ? 'yes' : '**no**',
        ]),
      }),
      '',
    );
  }
  for (const s of suites) {
    out.push(`## ${s.title}`, '', s.about, '');
    for (const t of s.tables) out.push(markdownTable(t), '');
    for (const c of s.charts) out.push(`![${c.title}](${c.file})`, '');
    for (const n of s.notes) out.push(`- ${n}`);
    if (s.notes.length) out.push('');
  }
  return out.join('\n');
}
