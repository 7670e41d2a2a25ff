import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BackendUnavailableError } from '@oncelock/core';
import { PKG } from './where.js';

/** A Lua script from `scripts/<name>-<numkeys>.lua`, ready for EVALSHA. */
export interface Script {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
  /** Keys per call, or per item for the batched `-2n` scripts. */
  readonly keysPerItem: number;
}

export type ScriptName = 'acquire' | 'extend' | 'release' | 'inspect' | 'list';

const FILES: Record<ScriptName, string> = {
  acquire: 'acquire-3.lua',
  extend: 'extend-2n.lua',
  release: 'release-3.lua',
  inspect: 'inspect-1.lua',
  list: 'list-0.lua',
};

// The scripts ship as files beside dist/ and src/ (package.json "files"), one level up from here.
const DIR = new URL('../scripts/', import.meta.url);

let loaded: Record<ScriptName, Script> | undefined;

/** Reads every script once per process. A missing file is a broken install: say so plainly. */
export function scripts(): Record<ScriptName, Script> {
  if (loaded) return loaded;
  const out = {} as Record<ScriptName, Script>;
  for (const [name, file] of Object.entries(FILES) as Array<[ScriptName, string]>) {
    let source: string;
    try {
      source = readFileSync(new URL(file, DIR), 'utf8');
    } catch (error) {
      throw new BackendUnavailableError(
        `Lua script ${file} is missing from the installed package; reinstall ${PKG}`,
        {
          pkg: PKG,
          cause: error,
        },
      );
    }
    const sha = createHash('sha1').update(source).digest('hex');
    out[name] = { name, source, sha, keysPerItem: Number.parseInt(file.split('-').pop() ?? '0', 10) };
  }
  loaded = out;
  return out;
}
