import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const fixture = new URL('./fixtures/legacy-decorators.ts', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'oncelock-decorators-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** What tsc says of the fixture under the given decorator setting: the messages, or none. */
function diagnostics(experimentalDecorators: boolean): string[] {
  const program = ts.createProgram([fixture], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    experimentalDecorators,
    types: [],
  });
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

describe('@runOnceOrCancel on both kinds of decorator', () => {
  it('type-checks with experimentalDecorators (NestJS) and with standard decorators', () => {
    expect(diagnostics(true)).toEqual([]);
    expect(diagnostics(false)).toEqual([]);
  });

  it('runs one of two overlapping calls when compiled as a legacy decorator', async () => {
    const bundle = join(out, 'legacy.mjs');
    await build({
      entryPoints: [fixture],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'esm',
      tsconfigRaw: { compilerOptions: { experimentalDecorators: true } },
    });
    const { ReportService, backend } = await import(pathToFileURL(bundle).href);
    const service = new ReportService(backend);
    const results = await Promise.all([service.build('mon'), service.build('mon'), service.build('tue')]);
    expect(results).toEqual(['report for mon', undefined, 'report for tue']);
    expect(service.runs).toEqual(['mon', 'tue']);
    await backend.close();
  });
});
