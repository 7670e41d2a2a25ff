/**
 * Runs `rounds` rounds over `arms`, each arm once per round, starting each round one arm later
 * (A B C, B C A, C A B, ...). Machine noise (another process, a GC, a CPU frequency change)
 * then falls on every arm alike, and no arm always runs first or last.
 */
export async function interleave<A>(
  arms: readonly A[],
  rounds: number,
  run: (arm: A, round: number) => Promise<void>,
): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < arms.length; i++) {
      await run(arms[(round + i) % arms.length] as A, round);
    }
  }
}
