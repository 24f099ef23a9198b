/**
 * run's native status ticker (native/status_sampler.c) on the real procfs: its readings against the
 * TypeScript read of the same status files (its twin), the wake-ups that stand for the sampler's own ticks
 * (a member gone, a new child, growth, the period), and the sampler with and without it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { probeCapabilities } from '../../src/engine/capabilities.js';
import { loadStatusSampler, type NativeStatusSampler } from '../../src/native/status-sampler.js';
import { parseMemberStatus } from '../../src/parse/status.js';
import { systemClock } from '../../src/sample/clock.js';
import { sampleUntil, TreeSampler } from '../../src/sample/sampler.js';
import { StatusTicker } from '../../src/sample/status-ticker.js';
import { type TreeMember, TreeWalker } from '../../src/sample/tree.js';

const MiB = 1024 * 1024;
const INTERVAL = 50;
const children: ChildProcess[] = [];
const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The addon's ticker, or a failing test: `npm ci` builds the addon, and a skip would report green. */
const requireTicker = (): NativeStatusSampler => {
  const native = loadStatusSampler({});
  if (!native) throw new Error('the native addon did not load; run: node scripts/build-native.mjs');
  return native;
};

/** A python process that allocates `mib` MiB (touched) for each line on its stdin, then runs `then` (sh). */
const grower = (mib: number): ChildProcess => {
  const child = spawn('python3', [
    '-c',
    `import sys, time\nheld = []\nfor line in sys.stdin:\n    held.append(bytearray(${mib} << 20))\n    sys.stdout.write('ok\\n'); sys.stdout.flush()\n`,
  ]);
  children.push(child);
  return child;
};

const waitLine = (child: ChildProcess) =>
  new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));

/** A walker over `pid`'s tree (by children files) and a ticker armed with its members. */
const watched = (pid: number, wakeAfter: number, wakeAbove = Number.POSITIVE_INFINITY) => {
  const walker = new TreeWalker('/proc', pid);
  const ticker = new StatusTicker(requireTicker(), INTERVAL);
  closers.push(() => {
    ticker.stop();
    walker.close();
  });
  // The first walk is a full one by parent PID, which reads no children files; the second reads them.
  expect(walker.watchSet(walker.walk())).toBeUndefined();
  const members = walker.walk();
  const set = walker.watchSet(members);
  expect(set, 'this kernel has children files and the statuses are held').toBeDefined();
  ticker.arm(members, set!, wakeAbove, wakeAfter);
  return { walker, ticker, members };
};

/** Wait for the ticker to ask for a tick; the ms it took (the cap when it never asked). */
const timeWake = async (ticker: StatusTicker, capMs: number): Promise<number> => {
  const start = performance.now();
  await ticker.wait(capMs, new AbortController().signal);
  return performance.now() - start;
};

describe('native status ticker', () => {
  it('reads what the TypeScript twin reads, every interval, and nothing while paused', async () => {
    const child = grower(24);
    child.stdin!.write('go\n');
    await waitLine(child);
    const pid = child.pid!;
    const { ticker } = watched(pid, 100);
    await sleep(INTERVAL * 6.5);
    const twin = parseMemberStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const readings = ticker.pause();
    expect(readings.length).toBeGreaterThanOrEqual(4);
    expect(readings.length).toBeLessThanOrEqual(7);
    for (const reading of readings) {
      expect(reading.members.map((m) => m.pid)).toEqual([pid]);
      const [member] = reading.members as [TreeMember];
      // A process that allocates nothing more: the same pages at every reading.
      expect(member.rss).toBe(twin.rss);
      expect(member.hwm).toBe(twin.hwm);
      expect(member.rss).toBeGreaterThan(24 * MiB);
      expect(member.name).toBe('python3');
    }
    const gaps = readings.slice(1).map((r, i) => r.monotonicMs - readings[i]!.monotonicMs);
    for (const gap of gaps) expect(gap).toBeGreaterThan(INTERVAL * 0.5);
    // Paused: the thread reads nothing until armed again.
    await sleep(INTERVAL * 4);
    expect(ticker.pause()).toEqual([]);
  });

  it('asks for a tick at the interval it was armed for, not before', async () => {
    const child = spawn('sleep', ['30']);
    children.push(child);
    await sleep(50);
    const { ticker } = watched(child.pid!, 6);
    const took = await timeWake(ticker, 5000);
    expect(took).toBeGreaterThan(INTERVAL * 6 - 20);
    expect(took).toBeLessThan(INTERVAL * 6 + 1000);
    // The sixth slot is the sampler's own tick: five readings.
    expect(ticker.pause()).toHaveLength(5);
  });

  it('asks at once when a member exits, and leaves it out of the readings after', async () => {
    const child = spawn('sleep', ['30']);
    children.push(child);
    await sleep(50);
    const { ticker } = watched(child.pid!, 100);
    await sleep(INTERVAL * 2.5);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const took = await timeWake(ticker, 5000);
    expect(took).toBeLessThan(INTERVAL * 2 + 1000);
    const readings = ticker.pause();
    expect(readings.length).toBeGreaterThanOrEqual(2);
    expect(readings.every((r) => r.members.length === 1)).toBe(true);
  });

  it('asks at once when a member starts a child it does not know of', async () => {
    const shell = spawn('sh', ['-c', 'read line; sleep 30 & wait']);
    children.push(shell);
    await sleep(100);
    const { ticker, members } = watched(shell.pid!, 100);
    expect(members.map((m) => m.pid)).toEqual([shell.pid]);
    expect(await timeWake(ticker, INTERVAL * 4)).toBeGreaterThanOrEqual(INTERVAL * 4 - 5);
    shell.stdin!.write('go\n');
    expect(await timeWake(ticker, 5000)).toBeLessThan(1000);
  });

  it('asks at once when the members grow past the mark, not while they stay below it', async () => {
    const child = grower(32);
    child.stdin!.write('go\n');
    await waitLine(child);
    const rss = parseMemberStatus(readFileSync(`/proc/${child.pid}/status`, 'utf8')).rss;
    const { ticker } = watched(child.pid!, 100, rss + 16 * MiB);
    expect(await timeWake(ticker, INTERVAL * 4)).toBeGreaterThanOrEqual(INTERVAL * 4 - 5);
    child.stdin!.write('go\n');
    await waitLine(child);
    expect(await timeWake(ticker, 5000)).toBeLessThan(1000);
    const readings = ticker.pause();
    expect(readings.at(-1)!.members[0]!.rss).toBeGreaterThan(rss + 16 * MiB);
  });
});

describe('the sampler with the ticker', () => {
  it('samples every interval while ticking itself far less often, and reads what the plain sampler reads', async () => {
    const caps = probeCapabilities('/proc');
    const child = grower(16);
    child.stdin!.write('go\n');
    await waitLine(child);
    const pid = child.pid!;
    const run = async (statusSampler: NativeStatusSampler | undefined) => {
      const sampler = new TreeSampler(pid, {
        procRoot: '/proc',
        sysRoot: '/sys',
        intervalMs: INTERVAL,
        // Small: after the bucket's first snapshots the sampler has no reason to tick until the period.
        cpuBudget: 0.001,
        engine: 'auto',
        wss: undefined,
        caps,
        clock: systemClock,
        ...(statusSampler ? { statusSampler } : {}),
      });
      const walks = vi.spyOn(TreeWalker.prototype, 'walk');
      try {
        const samples = await sampleUntil(sampler, INTERVAL, systemClock, sleep(1500));
        return { samples, walks: walks.mock.calls.length };
      } finally {
        walks.mockRestore();
        sampler.close();
      }
    };
    const { samples: plain, walks: plainWalks } = await run(undefined);
    const { samples: ticked, walks: tickedWalks } = await run(requireTicker());
    expect(plainWalks).toBe(plain.length);
    expect(tickedWalks).toBeLessThanOrEqual(plainWalks / 3);
    const kernel = parseMemberStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
    for (const samples of [plain, ticked]) {
      // About 30 intervals in 1.5 s; a loaded machine may drop a few slots.
      expect(samples.length).toBeGreaterThanOrEqual(20);
      expect(samples.length).toBeLessThanOrEqual(32);
      for (const sample of samples) {
        expect(sample.members.map((m) => m.pid)).toEqual([pid]);
        expect(sample.members[0]!.hwm).toBe(kernel.hwm);
        expect(sample.rssSum).toBe(kernel.rss);
      }
      const times = samples.map((s) => s.t);
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }
  });
});
