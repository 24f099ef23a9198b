/** memusage-launch's event lines parsed, folded into per-process entries, merged with samples; run spreads. */
import { describe, expect, it } from 'vitest';
import {
  decodePercent,
  LauncherProtocolError,
  parseLauncherLine,
} from '../../../src/sample/launcher-events.js';
import { ProcessLedger } from '../../../src/sample/process-ledger.js';
import { spread } from '../../../src/sample/runs.js';
import { processPeaks } from '../../../src/sample/summary.js';
import type { TreeSample } from '../../../src/sample/types.js';

const KiB = 1024;
const ms = (n: number) => String(n * 1e6);

describe('launcher event lines', () => {
  it('percent-encoded text: bytes <= space, % and >= 0x7f; % alone is empty', () => {
    expect(decodePercent('a%20b%25c%0A%C3%A9').toString('utf8')).toBe('a b%c\né');
    expect(decodePercent('%').length).toBe(0);
  });

  it('each kind, times in ms, sizes from kB to bytes', () => {
    expect(parseLauncherLine(`trace ${ms(5)} 100`)).toEqual({ kind: 'trace', t: 5, pid: 100 });
    expect(parseLauncherLine(`notrace ${ms(5)} 100 Operation not permitted`)).toEqual({
      kind: 'notrace',
      t: 5,
      pid: 100,
      reason: 'Operation not permitted',
    });
    expect(parseLauncherLine(`exec ${ms(6)} 100 my%20prog a%00b%20c%00%00`)).toEqual({
      kind: 'exec',
      t: 6,
      pid: 100,
      name: 'my prog',
      argv: ['a', 'b c', ''],
    });
    expect(parseLauncherLine(`hwm ${ms(7)} 100 2048 1024`)).toEqual({
      kind: 'hwm',
      t: 7,
      pid: 100,
      hwm: 2048 * KiB,
      rss: 1024 * KiB,
    });
    expect(parseLauncherLine(`end ${ms(8)} 100 signal 9 3000`)).toEqual({
      kind: 'end',
      t: 8,
      pid: 100,
      code: null,
      signal: 9,
      maxrss: 3000 * KiB,
    });
    expect(parseLauncherLine(`done ${ms(9)} 1500 500 12`)).toEqual({
      kind: 'done',
      t: 9,
      cpuMs: 2,
      stops: 12,
    });
  });

  it('anything else is a LauncherProtocolError', () => {
    expect(() => parseLauncherLine('hello 1 2')).toThrow(LauncherProtocolError);
    expect(() => parseLauncherLine('start x 1 2')).toThrow(LauncherProtocolError);
    expect(() => parseLauncherLine(`end ${ms(1)} 5 maybe 1 1`)).toThrow(LauncherProtocolError);
  });
});

const ledgerOf = (lines: string[], t0 = 1000, root = 100): ProcessLedger => {
  const ledger = new ProcessLedger(t0, root);
  for (const l of lines) ledger.apply(parseLauncherLine(l));
  return ledger;
};

describe('ProcessLedger', () => {
  it('start, exec, exit stop and end make one entry per process; a forked child takes its parent’s image', () => {
    const ledger = ledgerOf([
      `start ${ms(1000)} 100 99`,
      `exec ${ms(1001)} 100 sh sh%00-c%00x%00`,
      `start ${ms(1010)} 101 100`,
      `hwm ${ms(1020)} 101 500 400`,
      `end ${ms(1021)} 101 exit 0 700`,
      `hwm ${ms(1030)} 100 900 800`,
      `hwm ${ms(1030)} 100 800 800`,
      `end ${ms(1031)} 100 exit 3 900`,
      `done ${ms(1031)} 1000 0 9`,
    ]);
    expect(ledger.entries.map((e) => [e.pid, e.ppid, e.name, e.startMs, e.endMs, e.exitHwm])).toEqual([
      [100, 99, 'sh', 0, 31, 900 * KiB],
      [101, 100, 'sh', 10, 21, 500 * KiB],
    ]);
    expect(ledger.entries[1]!.argv).toEqual(['sh', '-c', 'x']);
    expect(ledger.rootExit()).toEqual({ code: 3, signal: null, status: 3 });
    expect(ledger.rootEndMs).toBe(31);
    expect([ledger.stops, ledger.launcherCpuMs]).toEqual([9, 1]);
  });

  it('a killed process: the signal by name and 128+N; a start after its end is a new process (PID reuse)', () => {
    const ledger = ledgerOf([
      `start ${ms(1000)} 100 99`,
      `start ${ms(1001)} 7 100`,
      `end ${ms(1002)} 7 signal 15 100`,
      `start ${ms(1003)} 7 100`,
      `running ${ms(1004)} 7 64`,
    ]);
    expect([...ledger.live].sort()).toEqual([100, 7]);
    const sevens = ledger.entries.filter((e) => e.pid === 7);
    expect(sevens.map((e) => [e.exit, e.runningHwm])).toEqual([
      [{ code: null, signal: 'SIGTERM', status: 143 }, null],
      [null, 64 * KiB],
    ]);
  });
});

const sampleAt = (t: number, pid: number, hwm: number): TreeSample => ({
  t,
  rssSum: hwm,
  rss: null,
  pss: null,
  uss: null,
  wss: null,
  wssWindowMs: null,
  snapshotCpuMs: null,
  members: [{ pid, ppid: 1, name: 'x', rss: hwm, hwm, pss: null, uss: null }],
});

describe('per-process peaks with tracing', () => {
  const lines = [
    `start ${ms(1000)} 100 99`,
    `exec ${ms(1000)} 100 sh sh%00`,
    `exec ${ms(1200)} 100 small small%00`,
    `hwm ${ms(1300)} 100 1000 1000`,
    `end ${ms(1300)} 100 exit 0 9000`,
  ];

  it('the exit stop’s VmHWM; a sample of the same image that read more raises it, still from the exit', () => {
    const [p] = processPeaks([sampleAt(250, 100, 1100 * KiB)], ledgerOf(lines).entries, true);
    expect(p).toMatchObject({ peakRss: 1100 * KiB, peakRssSource: 'exit', name: 'small', firstSeen: 250 });
  });

  it('an earlier image (before the exec) that samples saw peak higher: that peak, from the sample', () => {
    const [p] = processPeaks([sampleAt(100, 100, 5000 * KiB)], ledgerOf(lines).entries, true);
    expect(p).toMatchObject({ peakRss: 5000 * KiB, peakRssSource: 'sample' });
  });

  it('no exit stop and no sample: ru_maxrss, said so', () => {
    const entries = ledgerOf([`start ${ms(1000)} 100 99`, `end ${ms(1001)} 100 signal 9 3000`]).entries;
    expect(processPeaks([], entries, true)[0]).toMatchObject({
      peakRss: 3000 * KiB,
      peakRssSource: 'rusage',
    });
  });

  it('without tracing: the sampled processes, and CMD from the launcher when no sample saw it', () => {
    const entries = ledgerOf([`start ${ms(1000)} 100 99`, `end ${ms(1001)} 100 exit 0 3000`]).entries;
    expect(processPeaks([], entries, false).map((p) => [p.pid, p.peakRssSource])).toEqual([[100, 'rusage']]);
    expect(processPeaks([sampleAt(0, 100, 10)], entries, false).map((p) => p.peakRssSource)).toEqual([
      'sample',
    ]);
  });
});

describe('spread over runs', () => {
  it('min, median (the mean of the middle two for an even count) and max; null when no run had it', () => {
    expect(spread([3, 1, 2])).toEqual({ min: 1, median: 2, max: 3, runs: 3 });
    expect(spread([4, null, 1, 2, 3])).toEqual({ min: 1, median: 2.5, max: 4, runs: 4 });
    expect(spread([null, undefined])).toBeNull();
  });
});
