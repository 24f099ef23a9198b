import { describe, expect, it } from 'vitest';
import { freePid, kernelThreadPid, runCli, stderrLines } from '../helpers/cli.js';
import { stableKernelReading, ussKb } from '../helpers/kernel.js';
import { memhogTest } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';

const root = requireRoot();

/** One stderr line starting "memusage: ", no stack trace. */
const expectOneErrorLine = (stderr: string, pattern: RegExp) => {
  const lines = stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^memusage: /);
  expect(lines[0]).toMatch(pattern);
};

describe('memusage pid: bad input', () => {
  it.each([
    // The others are in test/unit/cli/usage-errors.test.ts (in process).
    [['pid', 'abc'], /'abc' is not a process ID/],
    [['pid', '1', '--psss'], /unknown option '--psss'.*--pss/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('%j → exit 2 and one stderr line', (args, pattern) => {
    const r = runCli(args);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expectOneErrorLine(r.stderr, pattern);
  });

  it('an unknown PID → exit 3 and one line naming it (with -q: no engine line before it)', () => {
    const pid = freePid();
    const r = runCli(['pid', String(pid), '-q']);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('');
    expectOneErrorLine(r.stderr, new RegExp(`no process with PID ${pid}$`));
  });

  it.skipIf(!root)('a kernel thread is reported as such, exit 3, and its --rss line is "-"', () => {
    const kthread = kernelThreadPid();
    const r = runCli(['pid', String(kthread), '--rss', '--quiet']);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('-\n');
    expectOneErrorLine(r.stderr, new RegExp(`^memusage: ${kthread} is a kernel thread`));
  });
});

describe.skipIf(!root)('memusage pid: numbers and formats', () => {
  memhogTest('--pss/--rss/--uss print the kernel smaps_rollup values in KiB', ({ memhog }) => {
    return memhog(['anon', '32']).then((hog) => {
      for (const [flag, pick] of [
        ['--rss', (r: Record<string, number>) => r.Rss],
        ['--pss', (r: Record<string, number>) => r.Pss],
        ['--uss', ussKb],
        ['--swap', (r: Record<string, number>) => r.Swap],
      ] as const) {
        const { before, result } = stableKernelReading(hog.pid, () => runCli(['pid', String(hog.pid), flag]));
        expect(result.exitCode).toBe(0);
        expect(result.stdout).toBe(`${pick(before)}\n`);
      }
      const bytes = runCli(['pid', String(hog.pid), '--uss', '--bytes']);
      // 32 MiB written by memhog, plus its small private baseline (< 1 MiB).
      expect(Number(bytes.stdout)).toBeGreaterThanOrEqual(32 * 2 ** 20);
      expect(Number(bytes.stdout)).toBeLessThan(33 * 2 ** 20);
      expect(Number(bytes.stdout) % 4096).toBe(0);
    });
  });

  memhogTest(
    'measured and missing PIDs together: one line per PID in the order given, "-" for the missing, exit 3',
    async ({ memhog }) => {
      const [a, c] = await Promise.all([memhog(['anon', '4']), memhog(['anon', '12'])]);
      const missing = freePid();
      const r = runCli(['pid', String(a.pid), String(missing), String(c.pid), '--rss', '--pss', '-q']);
      expect(r.exitCode).toBe(3);
      const lines = r.stdout.split('\n');
      expect(lines).toHaveLength(4);
      expect(lines[1]).toBe('- -');
      expect(lines[3]).toBe('');
      // 4 MiB and 12 MiB built, plus a baseline under 1 MiB: line 1 is A's, line 3 is C's.
      const rssKb = [lines[0], lines[2]].map((l) => Number(l!.split(' ')[0]));
      expect(rssKb[0]).toBeGreaterThanOrEqual(4 * 1024);
      expect(rssKb[0]).toBeLessThan(5 * 1024);
      expect(rssKb[1]).toBeGreaterThanOrEqual(12 * 1024);
      expect(rssKb[1]).toBeLessThan(13 * 1024);
      expect(stderrLines(r)).toEqual([`memusage: no process with PID ${missing}`]);
    },
  );

  memhogTest('--json has the documented shape, values in bytes', async ({ memhog }) => {
    const hog = await memhog(['shared', '8', '1']);
    const missing = freePid();
    const r = runCli(['pid', ...hog.pids.map(String), String(missing), '--json']);
    expect(r.exitCode).toBe(3);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc.engine).toBe('pagemap');
    expect(doc.skipped).toEqual([
      { pid: missing, reason: 'no-such-process', message: `no process with PID ${missing}` },
    ]);
    const processes = doc.processes as Record<string, unknown>[];
    expect(processes.map((p) => p.pid)).toEqual(hog.pids);
    for (const p of processes) {
      for (const key of ['rss', 'pss', 'uss', 'swap', 'vss', 'anon', 'file', 'shmem', 'thp', 'hugetlb']) {
        expect(typeof p[key], key).toBe('number');
      }
      expect(p.user).toBe('root');
      expect(typeof p.name).toBe('string');
      expect(typeof p.cmdline).toBe('string');
    }
    // The 8 MiB MAP_SHARED region is shmem, mapped by both: each has >= 8 MiB shmem RSS.
    expect(processes[0]!.shmem as number).toBeGreaterThanOrEqual(8 * 2 ** 20);
  });

  memhogTest('--csv: header and one row per PID', async ({ memhog }) => {
    const hog = await memhog(['anon', '4']);
    const r = runCli(['pid', String(hog.pid), '--csv']);
    expect(r.exitCode).toBe(0);
    const [header, row, end] = r.stdout.split('\n');
    expect(header).toMatch(/^pid,ppid,user,name,rss,pss,uss,swap,/);
    expect(row!.startsWith(`${hog.pid},`)).toBe(true);
    expect(end).toBe('');
  });

  memhogTest(
    'a name with terminal escapes is escaped in the report and exact in JSON',
    async ({ memhog }) => {
      const name = 'evil\u001b]0;pwned\u0007x';
      const hog = await memhog(['name', name]);
      const report = runCli(['pid', String(hog.pid)]);
      expect(report.exitCode).toBe(0);
      expect(report.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
      expect(report.stdout).toContain('evil\\e]0;pwned\\x07x');
      const json = JSON.parse(runCli(['pid', String(hog.pid), '--json']).stdout) as {
        processes: { name: string; argv: string[] }[];
      };
      expect(json.processes[0]!.name).toBe(name.slice(0, 15));
      expect(json.processes[0]!.argv).toContain(name);
    },
  );

  it('stderr says which engine measured and why, where `top` says it; -q leaves it out', () => {
    const r = runCli(['pid', String(process.pid)]);
    expect(r.exitCode).toBe(0);
    const [engine, ...notes] = stderrLines(r);
    expect(engine).toMatch(/^memusage: pagemap engine: .*root/);
    if (process.env.MEMUSAGE_NO_NATIVE === '1') {
      // The suite also runs with the TypeScript paths only; then notes say what that costs, and nothing else.
      expect(notes[0]).toMatch(
        /^memusage: note: PAGEMAP_SCAN unavailable \(disabled by MEMUSAGE_NO_NATIVE=1\)/,
      );
      for (const note of notes) expect(note).toMatch(/^memusage: note: /);
    } else expect(notes).toEqual([]);
    expect(r.stdout).toMatch(new RegExp(`^${process.pid} `));
    expect(r.stdout).not.toMatch(/engine/);
    const quiet = runCli(['pid', String(process.pid), '--quiet']);
    expect(quiet.exitCode).toBe(0);
    expect(quiet.stderr).toBe('');
  });

  it('--engine smaps says it was requested', () => {
    const r = runCli(['pid', String(process.pid), '--engine', 'smaps']);
    expect(r.exitCode).toBe(0);
    expect(stderrLines(r)[0]).toBe('memusage: smaps_rollup engine: requested with --engine smaps');
  });
});
