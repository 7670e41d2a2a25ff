import type { Holder } from '@oncelock/core';
import Table from 'cli-table3';

export type Listed = Holder & { key: string };

/** A duration as people read it: `850ms`, `12.5s`, `4m 05s`, `3h 07m`, `2d 04h`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const units: Array<[number, string]> = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ];
  const i = units.findIndex(([size]) => ms >= size);
  const [big, bigName] = units[i] as [number, string];
  const [small, smallName] = units[i + 1] as [number, string];
  const smallCount = Math.floor((ms % big) / small);
  return `${Math.floor(ms / big)}${bigName} ${String(smallCount).padStart(2, '0')}${smallName}`;
}

const orDash = (value: string | undefined) => value ?? '-';

/** `since` as an age on the wall clock: how long the holder has had the key. */
export const age = (since: number | undefined, now: number) =>
  since === undefined ? undefined : `${duration(Math.max(0, now - since))} ago`;

/** cli-table3 without colours: the same text in a terminal, a pipe and a test. */
export function table(head: string[], rows: string[][], align: Array<'left' | 'right'>): string {
  const t = new Table({ head, style: { head: [], border: [], compact: true }, colAligns: align });
  t.push(...rows);
  return t.toString();
}

/** Holders in key order: stores list them in whatever order they keep them. */
export const byKey = (holders: readonly Listed[]): Listed[] =>
  [...holders].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

/** The holders of `list` and `watch`, one row each, sorted by key. */
export function holdersTable(holders: readonly Listed[], now: number): string {
  const rows = byKey(holders).map((h) => [
    h.key,
    h.owner,
    orDash(h.fence?.toString()),
    orDash(age(h.since, now)),
    orDash(h.ttlRemaining === undefined ? undefined : duration(h.ttlRemaining)),
    String(h.limit ?? 1),
  ]);
  // `limit` is 1 for a plain lease; a key held by permits has a row per permit.
  return table(['key', 'owner', 'fence', 'since', 'ttl left', 'limit'], rows, [
    'left',
    'left',
    'right',
    'right',
    'right',
    'right',
  ]);
}

/** One holder, a field a line, for `inspect` and `release`. */
export function holderDetails(key: string, h: Holder, now: number): string {
  const since = h.since === undefined ? '-' : `${new Date(h.since).toISOString()} (${age(h.since, now)})`;
  const rows = [
    ['key', key],
    ['owner', h.owner],
    ['fence', orDash(h.fence?.toString())],
    ['since', since],
    ['ttl left', orDash(h.ttlRemaining === undefined ? undefined : duration(h.ttlRemaining))],
    ['limit', String(h.limit ?? 1)],
  ];
  // A key held by permits: every holder after the oldest, one line each.
  for (const other of h.holders?.slice(1) ?? [])
    rows.push(['also held by', `${other.owner} (fence ${orDash(other.fence?.toString())})`]);
  return table([], rows, ['left', 'left']);
}

/** A holder as `--json` prints it: the store's numbers, and `since` also as an ISO time. */
export function holderJson(key: string, h: Holder) {
  return {
    key,
    owner: h.owner,
    fence: h.fence ?? null,
    since: h.since ?? null,
    sinceIso: h.since === undefined ? null : new Date(h.since).toISOString(),
    ttlRemaining: h.ttlRemaining ?? null,
    limit: h.limit ?? 1,
  };
}
