/**
 * The CLI's malloc policy (native/malloc_policy.c, set in main): large C-heap blocks a measurement frees
 * go back to the kernel, so a view that measures again and again keeps flat memory. Without it glibc
 * serves them from its main heap after the first large free, and their pages stay resident (a live top
 * grew from 100 to over 200 MiB in minutes). test/helpers/heap-churn.cjs, required into bin/memusage,
 * allocates and frees a dozen blocks of 0.25 to 16 MiB fifteen times once the command is done, and says
 * how much the resident size grew at most.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSetMmapThreshold } from '../../src/native/malloc-policy.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/memhog.js';

const CHURN = join(REPO_ROOT, 'test', 'helpers', 'heap-churn.cjs');

describe('memory the CLI frees goes back to the kernel', () => {
  it('large blocks freed by bin/memusage do not stay resident', () => {
    // The policy is the addon's: this checks it even where the suite runs with MEMUSAGE_NO_NATIVE=1.
    expect(loadSetMmapThreshold({})).toBeDefined();
    const r = runCli(['--version'], { NODE_OPTIONS: `--require ${CHURN}`, MEMUSAGE_NO_NATIVE: undefined });
    expect(r.exitCode).toBe(0);
    const kib = Number(/heap-churn: grew by at most (-?\d+) KiB/.exec(r.stderr)?.[1]);
    // The longer-lived blocks are at most 4 MiB, each round's large ones about 100 MiB. Without the policy
    // 65 to 110 MiB stayed resident on the reference VM; with it 3 to 16 MiB.
    expect(kib).toBeLessThan(40 * 1024);
  });

  it('setMmapThreshold takes only a whole number of bytes that fits the int of mallopt', () => {
    const set = loadSetMmapThreshold({})!;
    for (const bad of [0, -1, 1.5, 2 ** 31, Number.NaN]) expect(() => set(bad)).toThrow(TypeError);
  });
});
