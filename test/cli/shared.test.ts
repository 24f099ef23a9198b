/** shared through the real bin/memusage: exit codes, one-line errors, a missing PID among live ones. */
import { describe, expect, it } from 'vitest';
import { freePid, runCli, stderrLines } from '../helpers/cli.js';
import { memhogTest } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';

const root = requireRoot();
const MiB = 1024 * 1024;

describe('shared: bad input', () => {
  // The others are in test/unit/cli/usage-errors.test.ts (in process).
  it('shared with one PID → exit 2 and one stderr line', () => {
    const r = runCli(['shared', '1']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    const lines = stderrLines(r);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^memusage: /);
    expect(lines[0]).toMatch(/shared needs at least two different PIDs/);
  });
});

describe.skipIf(!root)('shared on live processes (root)', () => {
  memhogTest('a missing PID → exit 3, the others still measured', async ({ memhog }) => {
    const hog = await memhog(['cow', '8', '1']);
    const missing = freePid();
    const r = runCli(['shared', '--json', String(hog.pids[0]), String(hog.pids[1]), String(missing)]);
    expect(r.exitCode).toBe(3);
    expect(stderrLines(r)).toEqual([`memusage: no process with PID ${missing}`]);
    const doc = JSON.parse(r.stdout) as { pairs: { a: number; b: number; shared: number }[] };
    expect(doc.pairs).toHaveLength(1);
    // The 8 MiB copy-on-write region is mapped by both (plus their shared binary, under 1 MiB).
    expect(doc.pairs[0]!.shared).toBeGreaterThanOrEqual(8 * MiB);
    expect(doc.pairs[0]!.shared).toBeLessThan(9 * MiB);
    const csv = runCli(['shared', '--csv', String(hog.pids[0]), String(hog.pids[1])]);
    expect(csv.stdout.trim().split('\n')).toHaveLength(1 + 4);
  });
});
