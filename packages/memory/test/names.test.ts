import { BackendClosedError, InvalidArgumentError, memoryBackend } from '@oncelock/memory';
import { describe, expect, it } from 'vitest';

describe('@oncelock/memory', () => {
  it("names itself in its errors, not core's", async () => {
    const backend = memoryBackend();
    await backend.close();
    const error = await backend.inspect('k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendClosedError);
    expect((error as Error).message).toBe('[@oncelock/memory memory] backend is closed');
    expect(() => memoryBackend({ clok: () => 0 } as never)).toThrow(InvalidArgumentError);
    expect(() => memoryBackend({ clok: () => 0 } as never)).toThrow(
      '[@oncelock/memory] memoryBackend(): unknown option "clok": did you mean "clock"?',
    );
  });
});
