/**
 * Deadlines for many short calls on one timer. A store call that answers in 50 µs should not
 * pay for a `setTimeout` and a `clearTimeout` of its own (about a microsecond or more each, and
 * Node's timer lists grow with every pending call): calls are grouped by when they expire, to
 * {@link GRAIN} ms, and one timer serves the earliest group. A deadline fires at or after its
 * time, at most {@link GRAIN} ms late.
 */

import { now } from '../clock.js';

/** How finely deadlines are told apart, in milliseconds. */
export const GRAIN = 10;

/** A pending deadline: `cancel()` once the call has settled. */
export interface Deadline {
  cancel(): void;
}

const groups = new Map<number, Set<() => void>>();
let timer: ReturnType<typeof setTimeout> | undefined;
let timerGroup = Number.POSITIVE_INFINITY;

/**
 * Calls `expire` once `ms` milliseconds have passed, unless cancelled first.
 *
 * @param ms - Milliseconds from now.
 * @param expire - Called once, from a timer; it must not throw.
 */
export function deadline(ms: number, expire: () => void): Deadline {
  const group = Math.ceil((now() + ms) / GRAIN);
  let set = groups.get(group);
  if (!set) {
    set = new Set();
    groups.set(group, set);
    if (group < timerGroup) arm(group);
  }
  set.add(expire);
  const members = set;
  return {
    cancel() {
      members.delete(expire);
    },
  };
}

function arm(group: number): void {
  if (timer !== undefined) clearTimeout(timer);
  timerGroup = group;
  timer = setTimeout(fire, Math.max(0, group * GRAIN - now()));
}

function fire(): void {
  timer = undefined;
  timerGroup = Number.POSITIVE_INFINITY;
  const due = Math.floor(now() / GRAIN);
  let next = Number.POSITIVE_INFINITY;
  for (const [group, set] of groups) {
    if (group > due) {
      if (set.size > 0) next = Math.min(next, group);
      else groups.delete(group);
      continue;
    }
    groups.delete(group);
    for (const expire of set) expire();
  }
  if (next !== Number.POSITIVE_INFINITY) arm(next);
}
