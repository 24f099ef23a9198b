/**
 * `system` on this machine: the parts sum to MemTotal to the byte, MemTotal is the kernel's, and the
 * userspace lines are the Σ PSS of the very snapshot they come from (the processes `top --json` would list).
 */
import { readFileSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { probeCapabilities } from '../../src/engine/capabilities.js';
import { measureSystem } from '../../src/engine/system.js';
import { UserNames } from '../../src/procfs/users.js';
import { parseKbFields } from '../helpers/kernel.js';
import { memhogTest } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';

const MiB = 1024 * 1024;

describe.skipIf(!requireRoot())('system (live, root)', () => {
  memhogTest('parts sum to MemTotal; userspace = Σ PSS of the snapshot', async ({ memhog }) => {
    const hog = await memhog(['anon', '64']);
    const r = measureSystem({ procRoot: '/proc' }, probeCapabilities('/proc'), new UserNames());
    const memTotalKb = parseKbFields(readFileSync('/proc/meminfo', 'latin1')).MemTotal!;
    expect(r.account.memTotal).toBe(memTotalKb * 1024);
    expect(r.account.parts.reduce((n, p) => n + p.bytes, 0)).toBe(memTotalKb * 1024);
    expect(r.snapshot.engine).toBe('pagemap');
    const sum = (pick: (u: (typeof r.snapshot.processes)[number]['usage']) => number | null) =>
      r.snapshot.processes.reduce((n, p) => n + (pick(p.usage) ?? Number.NaN), 0);
    const part = (id: string) => r.account.parts.find((p) => p.id === id)!.bytes;
    expect(r.userspace.pss).toBe(sum((u) => u.pss));
    expect(part('user.anon')).toBe(sum((u) => u.pssAnon));
    expect(part('user.file')).toBe(sum((u) => u.pssFile));
    expect(part('user.shmem')).toBe(sum((u) => u.pssShmem));
    const userspace = r.account.parts.filter((p) => p.group === 'userspace').reduce((n, p) => n + p.bytes, 0);
    expect(userspace).toBe(r.userspace.pss);
    // Splits are floored apart per process: the rounding line is 0..2 bytes per process.
    expect(part('user.rounding')).toBeGreaterThanOrEqual(0);
    expect(part('user.rounding')).toBeLessThanOrEqual(2 * r.snapshot.processes.length);
    // The 64 MiB memhog wrote is in there, once.
    expect(r.snapshot.processes.find((p) => p.pid === hog.pid)!.usage.pssAnon).toBeGreaterThanOrEqual(
      64 * MiB,
    );
    expect(part('user.anon')).toBeGreaterThanOrEqual(64 * MiB);
    // Lines read straight from meminfo (the reading the result carries).
    expect(part('free')).toBe(r.meminfo.bytes.MemFree);
    expect(r.account.freeUsed).toBe(r.meminfo.bytes.MemTotal! - r.meminfo.bytes.MemAvailable!);
  });
});
