/** diff's matching and order (engine/diff.ts), and the tar reader's checks (capture/tar.ts), in process. */
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { zeroUsage } from '../../../src/account/usage.js';
import { CaptureError } from '../../../src/capture/errors.js';
import { gzipTar, readTar } from '../../../src/capture/tar.js';
import { diffProcesses } from '../../../src/engine/diff.js';
import type { ProcessMemory } from '../../../src/engine/types.js';

const proc = (pid: number, startTime: number, rss: number, pss = rss, uss = rss): ProcessMemory => ({
  pid,
  ppid: 1,
  startTime,
  name: `p${pid}`,
  cmdline: [],
  uid: 0,
  user: 'root',
  state: 'S',
  usage: { ...zeroUsage(), rss, pss, uss },
  source: 'pagemap',
});

describe('diffProcesses', () => {
  it('matches by PID and start time: a reused PID is one process gone and another new', () => {
    const rows = diffProcesses(
      [proc(10, 100, 50), proc(11, 100, 30)],
      [proc(10, 100, 80), proc(11, 999, 5)],
      'pss',
    );
    expect(rows.map((r) => [r.pid, r.change, r.delta.pss])).toEqual([
      [10, 'grew', 30],
      [11, 'new', 5],
      [11, 'gone', -30],
    ]);
  });

  it('sorts by the chosen size: largest growth first, largest shrink last', () => {
    const a = [proc(1, 1, 100, 10, 1), proc(2, 1, 100, 10, 1), proc(3, 1, 100, 10, 1)];
    const b = [proc(1, 1, 90, 40, 1), proc(2, 1, 200, 5, 1), proc(3, 1, 100, 10, 1)];
    expect(diffProcesses(a, b, 'rss').map((r) => r.pid)).toEqual([2, 3, 1]);
    expect(diffProcesses(a, b, 'pss').map((r) => r.pid)).toEqual([1, 3, 2]);
  });
});

describe('the tar reader', () => {
  const entries = [
    { name: 'a/manifest.json', data: Buffer.from('{}') },
    { name: `a/${'long-name/'.repeat(12)}x`, data: Buffer.alloc(1000, 7) },
  ];
  it('reads back what the writer wrote, names over 100 bytes included', () => {
    const read = readTar('t', gzipTar(entries, 0));
    expect(read.map((e) => [e.name, e.data.length])).toEqual(entries.map((e) => [e.name, e.data.length]));
  });

  it('a header whose checksum does not match, or an archive without its end, is an error', () => {
    const tar = Buffer.from(readTarRaw());
    tar[10] = tar[10]! ^ 1;
    expect(() => readTar('t', gzipSync(tar))).toThrow(/corrupt tar header checksum/);
    const whole = readTarRaw();
    expect(() => readTar('t', gzipSync(whole.subarray(0, whole.length - 1024)))).toThrow(CaptureError);
  });

  /** The plain tar of `entries`. */
  const readTarRaw = (): Buffer => gunzipSync(gzipTar(entries, 0));
});
