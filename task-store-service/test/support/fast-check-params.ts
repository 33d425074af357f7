/**
 * fast-check run parameters of the store's property tests: FC_RUNS overrides numRuns; a failure
 * prints fast-check's seed and path, which FC_SEED / FC_PATH replay (with mocha's --grep).
 */
export function runParams(numRuns: number): { numRuns: number; seed?: number; path?: string } {
  const { FC_RUNS, FC_SEED, FC_PATH } = process.env;
  return {
    numRuns: Number(FC_RUNS ?? numRuns),
    ...(FC_SEED !== undefined && { seed: Number(FC_SEED) }),
    ...(FC_PATH !== undefined && { path: FC_PATH }),
  };
}
