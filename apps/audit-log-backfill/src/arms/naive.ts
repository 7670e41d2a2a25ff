import { type Arm, type ArmContext, jobIds, runBatchJob } from './arm.js';

/**
 * No oncelock: what a periodic trigger plus a self-requeueing job does on its own. The trigger
 * enqueues on every tick, busy workers or not, and a full batch re-queues itself, so jobs pile
 * up; two jobs running at once select the same rows, and the slower insert fails on the
 * primary key after its work is done.
 */
export function naiveArm(ctx: ArmContext): Arm {
  const nextId = jobIds('naive');
  return {
    name: 'naive',
    async trigger() {
      await ctx.add(nextId());
      return true;
    },
    async process() {
      if (await runBatchJob(ctx)) await ctx.add(nextId());
      return undefined;
    },
  };
}
