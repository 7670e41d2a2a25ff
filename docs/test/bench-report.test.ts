// The benchmarks page shows the bench report as written, or says plainly that there is none.
import { describe, expect, it } from 'vitest';
import { renderBenchPage } from '../scripts/bench-report.mjs';

describe('benchmarks page body', () => {
  it('says there are no results, with no number in it, when the report is absent', () => {
    const page = renderBenchPage(undefined, []);
    expect(page).toContain('No results yet');
    expect(page).toContain('bench/results/results.md');
    expect(page.replace(/results\.md|\d+\.\d+\.\d+/g, '')).not.toMatch(/\d/);
  });

  it('shows the report and points its charts at the copies the site serves', () => {
    const report = [
      '# Benchmarks',
      '',
      'Acquire and release, p50 <2 ms on <Redis> (see [method](method.md), [how](../README.md)).',
      '',
      '![throughput](./throughput.svg)',
      '',
      '`code with <T> stays`',
    ].join('\n');
    const page = renderBenchPage(report, ['throughput.svg', 'latency.svg']);
    expect(page).not.toContain('# Benchmarks'); // the page has its own title
    expect(page).toContain('![throughput](/bench/throughput.svg)');
    expect(page).toContain('method (`bench/results/method.md`)');
    expect(page).toContain('how (`bench/README.md`)');
    expect(page).toContain('&lt;Redis>'); // not a Vue component
    expect(page).toContain('`code with <T> stays`');
    expect(page).toContain('<div v-pre>');
    // A chart the report does not show is still on the page, once.
    expect(page).toContain('![latency](/bench/latency.svg)');
    expect(page.match(/throughput\.svg/g)).toHaveLength(1);
    expect(page).not.toContain('No results yet');
  });
});
