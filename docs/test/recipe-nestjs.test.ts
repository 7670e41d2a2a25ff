import { memoryBackend } from '@oncelock/core';
import { expect, it } from 'vitest';
import { closed, InvoiceService } from '../snippets/recipe-nestjs.js';

it('the NestJS recipe closes a month once while another call overlaps it', async () => {
  const backend = memoryBackend();
  const service = new InvoiceService(backend);
  expect(await Promise.all([service.closeMonth('2026-11'), service.closeMonth('2026-11')])).toEqual([
    1,
    undefined,
  ]);
  expect(closed).toEqual(['2026-11']);
  await backend.close();
});
