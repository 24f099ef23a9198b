/**
 * The library used the way a benchmark harness would: import from the package, measure a workload, read
 * peak memory and working set from the returned records, and snapshot PIDs.
 */

import { measure, type RunRecord, type RunsRecord, snapshot, workingSet } from 'memusage';
import { describe, expect } from 'vitest';
import { memhogPath, memhogTest } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';

const MiB = 1024 * 1024;

describe.skipIf(!requireRoot())('library API as a benchmark harness uses it', () => {
  memhogTest('measure() a command: peak tree PSS/USS, per-process peak RSS, exit', async () => {
    const record: RunRecord = await measure(
      { command: [memhogPath(), 'hold', '96', '0.8'] },
      { stdio: 'ignore', intervalMs: 50, cpuBudget: 0.2 },
    );
    expect(record.kind).toBe('run');
    expect(record.exit).toEqual({ code: 0, signal: null, status: 0 });
    expect(record.summary.pss.peak!.value).toBeGreaterThanOrEqual(96 * MiB);
    expect(record.summary.uss.peak!.value).toBeGreaterThanOrEqual(96 * MiB);
    expect(record.summary.processes[0]!.peakRss).toBeGreaterThanOrEqual(96 * MiB);
    expect(record.samples.length).toBeGreaterThanOrEqual(5);
    expect(JSON.parse(JSON.stringify(record))).toStrictEqual(record); // plain data, as --json writes it
  });

  memhogTest('measure() with runs and warmup: every run, min / median / max of each peak', async () => {
    const record: RunsRecord = await measure(
      { command: [memhogPath(), 'hold', '24', '0.05'] },
      { stdio: 'ignore', runs: 2, warmup: 1 },
    );
    expect(record.kind).toBe('runs');
    expect(record.runs).toHaveLength(2);
    expect(record.warmup).toBe(1);
    const peaks = record.runs.map((r) => r.summary.processes[0]!.peakRss);
    for (const peak of peaks) expect(peak).toBeGreaterThanOrEqual(24 * MiB);
    expect(record.stats.processPeakRss).toEqual({
      min: Math.min(...peaks),
      median: (peaks[0]! + peaks[1]!) / 2,
      max: Math.max(...peaks),
      runs: 2,
    });
    expect(record.runs.every((r) => r.tracing.method === 'ptrace')).toBe(true);
  });

  memhogTest('measure() a running PID for a period, with its working set', async ({ memhog }) => {
    const hog = await memhog(['busy', '64', '16']);
    const record = await measure(
      { pid: hog.pid, durationMs: 1300 },
      { wss: true, wssIntervalMs: 500, wssMethod: 'clear-refs' },
    );
    expect(record.exit).toBeNull();
    expect(record.wssMethod).toBe('clear-refs');
    expect(record.summary.rss.peak!.value).toBeGreaterThanOrEqual(64 * MiB);
    const wss = record.samples.filter((s) => s.wss !== null);
    expect(wss.length).toBeGreaterThanOrEqual(1);
    for (const s of wss) {
      expect(s.wss!).toBeGreaterThanOrEqual(16 * MiB * 0.98);
      expect(s.wss!).toBeLessThanOrEqual(16 * MiB * 1.02 + 256 * 1024);
    }
  });

  memhogTest('snapshot() and workingSet() of PIDs', async ({ memhog }) => {
    const hog = await memhog(['busy', '32', '8']);
    const doc = snapshot([hog.pid]);
    expect(doc.engine).toBe('pagemap');
    expect(doc.processes[0]!.uss).toBeGreaterThanOrEqual(32 * MiB);
    const ws = await workingSet([hog.pid], { intervalMs: 500 });
    expect(ws.samples[0]!.pid).toBe(hog.pid);
    expect(Math.abs(ws.samples[0]!.anon - 8 * MiB)).toBeLessThanOrEqual(0.02 * 8 * MiB + 256 * 1024);
  });
});
