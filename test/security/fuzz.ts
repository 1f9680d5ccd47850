/**
 * Shared settings of the seeded, time-bounded fuzz suites (test/security/*.fuzz.test.ts).
 * FUZZ_SEED and FUZZ_RUNS (environment) replay a failure or search longer; the defaults keep
 * each suite to a few seconds in `npm test`. A suite that finds a counterexample prints the
 * seed and the path fast-check needs to replay it.
 */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 19_019);

/** Runs per suite (the suite stops earlier when its time budget runs out). */
export function fuzzRuns(fallback: number): number {
  const n = Number(process.env.FUZZ_RUNS ?? fallback);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

/** fast-check parameters: the seed, the runs, and a wall-clock cap that ends the search (not as a failure). */
export function fuzzParams(runs: number, timeLimitMs = 4000) {
  return { seed: FUZZ_SEED, numRuns: fuzzRuns(runs), interruptAfterTimeLimit: timeLimitMs, verbose: 1 } as const;
}

/** One line per suite in the test output: what it tried (the notes of issue 19 quote these). */
export function reportFuzz(suite: string, runs: number, found: string): void {
  console.info(`fuzz ${suite}: ${runs} cases, seed ${FUZZ_SEED}; ${found}`);
}
