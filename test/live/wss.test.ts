/**
 * Working set against what memhog's busy scenario touches: TOTAL MiB written once, HOT MiB rewritten
 * continuously. The hot region's mapping must show HOT (±2%), the process HOT plus a small fixed baseline
 * (the loop's stack and text pages).
 */
import { describe, expect } from 'vitest';
import { workingSet } from '../../src/api/working-set.js';
import { memhogTest } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';

const MiB = 1024 * 1024;
/** The busy loop's own pages (stack, text, a libc page or two): far below this. */
const BASELINE_MAX = 256 * 1024;

describe.skipIf(!requireRoot())('wss (clear-refs) against memhog busy', () => {
  memhogTest('WSS equals the hot set for 32/256, 8/128 and 64/64 MiB', async ({ memhog }) => {
    const cases = [
      [256, 32],
      [128, 8],
      [64, 64],
    ] as const;
    const hogs = await Promise.all(cases.map(([total, hot]) => memhog(['busy', String(total), String(hot)])));
    const record = await workingSet(
      hogs.map((h) => h.pid),
      { intervalMs: 1000, method: 'clear-refs', maps: true },
    );
    expect(record.method).toBe('clear-refs');
    expect(record.skipped).toEqual([]);
    cases.forEach(([total, hot], i) => {
      const hog = hogs[i]!;
      const sample = record.samples.find((s) => s.pid === hog.pid);
      expect(sample, `sample for busy ${total} ${hot}`).toBeDefined();
      const hotBytes = hot * MiB;
      const region = sample!.maps!.find((m) => m.start === Number(hog.addr));
      expect(region?.rss).toBe(total * MiB);
      expect(Math.abs(region!.wss - hotBytes)).toBeLessThanOrEqual(0.02 * hotBytes);
      expect(sample!.wss).toBeGreaterThanOrEqual(0.98 * hotBytes);
      expect(sample!.wss).toBeLessThanOrEqual(1.02 * hotBytes + BASELINE_MAX);
      expect(sample!.anon).toBeGreaterThanOrEqual(0.98 * hotBytes);
      expect(sample!.wss).toBe(sample!.anon + sample!.file);
      expect(sample!.rss).toBeGreaterThanOrEqual(total * MiB);
      expect(sample!.windowMs).toBeGreaterThanOrEqual(990); // timers may fire a hair early
    });
  });

  memhogTest('--anon scope leaves file mappings out; a vanished process is skipped', async ({ memhog }) => {
    const hog = await memhog(['busy', '32', '16']);
    const record = await workingSet([hog.pid, 4_194_000], {
      intervalMs: 300,
      method: 'clear-refs',
      scope: 'anon',
    });
    expect(record.scope).toBe('anon');
    const sample = record.samples.find((s) => s.pid === hog.pid)!;
    expect(sample.file).toBe(0);
    expect(Math.abs(sample.anon - 16 * MiB)).toBeLessThanOrEqual(0.02 * 16 * MiB + BASELINE_MAX);
    expect(record.skipped.map((s) => [s.pid, s.reason])).toEqual([[4_194_000, 'no-such-process']]);
  });
});
