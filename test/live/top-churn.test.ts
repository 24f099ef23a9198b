/**
 * `top --once --json` while processes start and exit all the time: every run must succeed with a valid,
 * self-consistent document, and every row must belong to the process that had that PID.
 * The churn lasts exactly as long as the runs (a stop file ends it), so the test takes a few seconds.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { requireRoot } from '../helpers/require-root.js';

const run = promisify(execFile);
/** The churn must have started at least this many processes while the runs went on. */
const MIN_CHURN = 100;
const RUNS = 20;
/** Always measured (MemUsage), and measured only with page flags or by one engine (null otherwise). */
const SIZES = ['vss', 'rss', 'pss', 'uss', 'swap', 'anon', 'pssAnon', 'hugetlb'] as const;
const NULLABLE_SIZES = ['file', 'shmem', 'pssFile', 'pssShmem', 'thp', 'ksm', 'zeroPage'] as const;
const isSize = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;

interface Row {
  pid: number;
  startTime: number;
  name: string;
  argv: string[];
  [size: string]: unknown;
}

/** Start time (clock ticks since boot, field 22) of whatever has this PID now; undefined once it is gone. */
const startTimeNow = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
};

/**
 * A shell that starts short-lived `sleep`s (10 to 90 ms, about as long as one top run), ten at a time,
 * until `stop()`; `done` is how many it started.
 */
const startChurner = () => {
  const dir = mkdtempSync(join(tmpdir(), 'memusage-churn-'));
  const stopFile = join(dir, 'stop');
  // It also ends when this test's process is gone: a timed-out test never reaches its finally block.
  const script = `n=0; while [ ! -e '${stopFile}' ] && kill -0 ${process.pid} 2>/dev/null; do for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.0$i & done; n=$((n+10)); wait; done; echo $n`;
  const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const done = new Promise<number>((resolve) =>
    child.once('exit', () => {
      rmSync(dir, { recursive: true, force: true });
      resolve(Number(out.trim()));
    }),
  );
  return {
    pid: child.pid!,
    done,
    // Once it has exited its directory is gone: stopping again is a no-op.
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) writeFileSync(stopFile, '');
    },
    running: () => child.exitCode === null && child.signalCode === null,
  };
};

describe.skipIf(!requireRoot())('top under process churn (live, root)', () => {
  it(`${RUNS} top --once --json runs while processes start and exit throughout`, async () => {
    const churner = startChurner();
    // Runs on a timeout too, when the body below is abandoned mid-await.
    onTestFinished(() => churner.stop());
    let churnSeen = 0;
    let runs = 0;
    try {
      // The churn ran before the first run started and is still running after the last one ended.
      while (runs < RUNS) {
        expect(churner.running(), 'churn still going').toBe(true);
        const { stdout } = await run(process.execPath, [BIN, 'top', '--once', '--json'], {
          maxBuffer: 64 * 1024 * 1024,
          env: { ...process.env, NO_COLOR: '1' },
        }); // rejects on a non-zero exit
        runs++;
        const doc = JSON.parse(stdout) as {
          engine: string;
          processes: Row[];
          skipped: { pid: number; reason: string; name?: string }[];
          totals: Record<string, number | null>;
        };
        expect(doc.engine).toBe('pagemap');
        const pids = doc.processes.map((p) => p.pid);
        expect(new Set(pids).size, 'no PID twice').toBe(pids.length);
        for (const p of doc.processes) {
          expect(Number.isInteger(p.pid) && p.pid > 0, `pid ${p.pid}`).toBe(true);
          expect(Number.isInteger(p.startTime) && p.startTime > 0, `${p.pid} startTime`).toBe(true);
          expect(typeof p.name === 'string' && p.name !== '', `${p.pid} name`).toBe(true);
          for (const key of SIZES) expect(isSize(p[key]), `${p.pid} ${key}=${p[key]}`).toBe(true);
          for (const key of NULLABLE_SIZES)
            expect(p[key] === null || isSize(p[key]), `${p.pid} ${key}=${p[key]}`).toBe(true);
          const [rss, pss, uss] = [p.rss, p.pss, p.uss] as number[];
          expect(uss, `${p.pid} uss <= pss`).toBeLessThanOrEqual(pss! + 1);
          expect(pss, `${p.pid} pss <= rss`).toBeLessThanOrEqual(rss! + 1);
          // Still there: it must be the very process that was measured (pid_max wraps far slower than this).
          const now = startTimeNow(p.pid);
          if (now !== undefined) expect(now, `pid ${p.pid} (${p.name}) start time`).toBe(p.startTime);
          if (p.name === 'sleep' && p.argv[0] === 'sleep') churnSeen++;
        }
        const measured = new Set(pids);
        for (const s of doc.skipped) {
          expect(['gone', 'denied', 'kernel-thread', 'zombie'], `${s.pid}: ${s.reason}`).toContain(s.reason);
          // A sleep seen by the collection that exited before its frames were looked up: reported gone.
          if (s.reason === 'gone' && s.name === 'sleep') churnSeen++;
          expect(measured.has(s.pid), `${s.pid} both measured and skipped`).toBe(false);
        }
        // Totals are over the rows shown: no process silently counted or dropped. PSS adds up; RSS counts
        // each page once, so it is at most the sum and at least the largest row.
        expect(doc.totals.processes).toBe(doc.processes.length);
        expect(doc.totals.pss).toBe(doc.processes.reduce((sum, p) => sum + (p.pss as number), 0));
        const rss = doc.processes.map((p) => p.rss as number);
        expect(doc.totals.rss).toBeLessThanOrEqual(rss.reduce((a, b) => a + b, 0));
        expect(doc.totals.rss).toBeGreaterThanOrEqual(Math.max(...rss));
      }
      expect(churner.running(), 'churn still going').toBe(true);
    } finally {
      churner.stop();
      // A churner that hangs must not outlive the test.
      setTimeout(() => churner.running() && process.kill(churner.pid, 'SIGKILL'), 5_000).unref();
    }
    const started = await churner.done;
    expect(started).toBeGreaterThanOrEqual(MIN_CHURN);
    expect(runs).toBe(RUNS);
    // The runs did overlap the churn: short-lived processes were measured, or seen and reported gone.
    expect(churnSeen).toBeGreaterThan(0);
  }, 30_000);
});
