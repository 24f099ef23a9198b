/**
 * `shared` on memhog's parent and children: the pair intersection equals an independent intersection of the
 * two processes' PFNs (read here from pagemap with BigInt and Sets), and holds the constructed region.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { probeCapabilities } from '../../src/engine/capabilities.js';
import { measureShared } from '../../src/engine/shared.js';
import { UserNames } from '../../src/procfs/users.js';
import { stableKernelReadings } from '../helpers/kernel.js';
import { memhogTest } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';

const MiB = 1024 * 1024;
/** What a memhog maps besides its region (binary text and data, stack): under 1 MiB (see pid-engine.test.ts). */
const SLACK = MiB;

/** PFNs of the present, non-zero-page (kpagecount > 0) pages of a process. */
const framesOf = (pid: number): Set<bigint> => {
  const pfns = new Set<bigint>();
  const pagemap = openSync(`/proc/${pid}/pagemap`, 'r');
  const kpagecount = openSync('/proc/kpagecount', 'r');
  try {
    for (const line of readFileSync(`/proc/${pid}/maps`, 'latin1').split('\n')) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
      if (!m || line.endsWith('[vsyscall]')) continue;
      const start = BigInt(`0x${m[1]}`) >> 12n;
      const pages = Number((BigInt(`0x${m[2]}`) >> 12n) - start);
      const buf = Buffer.alloc(pages * 8);
      readSync(pagemap, buf, 0, buf.length, Number(start * 8n));
      for (let i = 0; i < pages; i++) {
        const e = buf.readBigUInt64LE(i * 8);
        if (((e >> 63n) & 1n) === 0n) continue;
        const pfn = e & ((1n << 55n) - 1n);
        const count = Buffer.alloc(8);
        readSync(kpagecount, count, 0, 8, Number(pfn * 8n));
        if (count.readBigUInt64LE(0) > 0n) pfns.add(pfn);
      }
    }
  } finally {
    closeSync(pagemap);
    closeSync(kpagecount);
  }
  return pfns;
};

describe.skipIf(!requireRoot())('shared on memhog (live, root)', () => {
  memhogTest('shared 16 2: parent and one child, then all three', async ({ memhog }) => {
    const hog = await memhog(['shared', '16', '2']);
    const [parent, child] = hog.pids as [number, number, number];
    const caps = probeCapabilities('/proc');
    const { result } = stableKernelReadings(hog.pids, () => ({
      pair: measureShared('/proc', [parent, child], caps, new UserNames()),
      a: framesOf(parent),
      b: framesOf(child),
    }));
    const { pair, a, b } = result;
    const both = [...a].filter((pfn) => b.has(pfn)).length * 4096;
    const shared = pair.sharing.pairs[1]!;
    expect(shared, 'pair = independent PFN intersection').toBe(both);
    expect(pair.sharing.pairs[0], 'diagonal = distinct frames of the parent').toBe(a.size * 4096);
    // The 16 MiB region plus what fork left shared (binary text, untouched data): less than the slack.
    expect(shared).toBeGreaterThanOrEqual(16 * MiB);
    expect(shared).toBeLessThan(16 * MiB + SLACK);
    // The third process maps the region too, so for this pair it is shared with an outsider.
    expect(pair.sharing.members[0]!.sharedOutside).toBeGreaterThanOrEqual(16 * MiB);
    expect(pair.sharing.set.sharedInSet).toBeLessThan(SLACK);

    const all = measureShared('/proc', hog.pids, caps, new UserNames());
    expect(all.sharing.set.sharedInSet).toBeGreaterThanOrEqual(16 * MiB);
    expect(all.sharing.set.sharedOutside).toBeLessThan(SLACK);
    for (const m of all.sharing.members) {
      expect(m.private + m.sharedInSet + m.sharedOutside).toBe(m.distinct);
    }
  });
});
