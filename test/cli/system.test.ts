/** system through the real bin/memusage as root: the JSON parts against /proc/meminfo and the documented formulas. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { requireRoot } from '../helpers/require-root.js';

const root = requireRoot();

describe.skipIf(!root)('system on the live machine (root)', () => {
  it('system --json: parts sum to MemTotal and follow the documented formulas', () => {
    const r = runCli(['system', '--json']);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      memTotal: number;
      parts: { id: string; bytes: number }[];
      meminfo: { bytes: Record<string, number> };
      userspace: { pss: number; pssFile: number; pssShmem: number };
    };
    const m = doc.meminfo.bytes;
    const part = (id: string) => doc.parts.find((p) => p.id === id)!.bytes;
    expect(doc.memTotal).toBe(m.MemTotal);
    expect(doc.parts.reduce((n, p) => n + p.bytes, 0)).toBe(m.MemTotal);
    expect(part('cache.file')).toBe(m.Cached! + m.Buffers! - m.Shmem! - doc.userspace.pssFile);
    expect(part('cache.shmem')).toBe(m.Shmem! - doc.userspace.pssShmem);
    expect(part('free')).toBe(m.MemFree);
    expect(part('kernel.slab.unreclaimable')).toBe(m.SUnreclaim);
    const userspace = doc.parts.filter((p) => p.id.startsWith('user.')).reduce((n, p) => n + p.bytes, 0);
    expect(userspace).toBe(doc.userspace.pss);
  });
});
