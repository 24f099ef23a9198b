/** What the native twin tests share: the loops or a failing test, and a seeded PRNG. */
import { loadObjectRuns, type NativeObjectRuns } from '../../src/native/object-runs.js';
import { loadPageLoops, type NativePageLoops } from '../../src/native/page-loops.js';

/** The loops, or a failing test: `npm ci` builds the addon, and a skip would report green. */
export const requireLoops = (): NativePageLoops => {
  const loops = loadPageLoops({});
  if (!loops) throw new Error('the native addon did not load; run: node scripts/build-native.mjs');
  return loops;
};

/** The shared objects' loops (native/object_runs.c), or a failing test, as requireLoops. */
export const requireObjectRuns = (): NativeObjectRuns => {
  const runs = loadObjectRuns({});
  if (!runs) throw new Error('the native addon did not load; run: node scripts/build-native.mjs');
  return runs;
};

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
export const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
};
