/**
 * `memusage run` through the real bin with memusage-launch tracing the tree: every process of the tree
 * recorded, each with a peak no lower than the VmHWM the process read itself just before it exited.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/sample/record.js';
import type { RunsRecord } from '../../src/sample/runs.js';
import type { ProcessPeak } from '../../src/sample/summary.js';
import { BIN, runCli, stderrLines } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/memhog.js';
import { nobodyBin, removeNobodyCopy, runAsNobody } from '../helpers/nobody.js';
import { requireRoot } from '../helpers/require-root.js';
import { readReports, type TreehogReport, treehogPath } from '../helpers/treehog.js';

const MiB = 1024 * 1024;
/** The kernel's counters may move a little between the helper's own read and the exit stop's. */
const SLACK = 512 * 1024;
const LAUNCHER = join(REPO_ROOT, 'build', 'Release', 'memusage-launch');
const dir = mkdtempSync(join(tmpdir(), 'memusage-run-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hog = treehogPath();
let seq = 0;

/** Run `memusage run --json FILE [opts] -- cmd` with a fresh report file; the record and the reports. */
const traced = (cmd: string[], opts: string[] = []) => {
  const n = ++seq;
  const json = join(dir, `r${n}.json`);
  const report = join(dir, `r${n}.report`);
  const r = runCli(['run', ...opts, '--json', json, '--', ...cmd], { TREEHOG_REPORT: report });
  let reports: TreehogReport[] = [];
  try {
    reports = readReports(report);
  } catch {
    // No process reported (a command that is not treehog).
  }
  return { r, record: JSON.parse(readFileSync(json, 'utf8')) as RunRecord, reports };
};

/** Every process that reported is in the record, with a peak at least what it touched and its own VmHWM. */
const expectEveryReport = (record: RunRecord, reports: TreehogReport[]): ProcessPeak[] => {
  const byPid = new Map(record.summary.processes.map((p) => [p.pid, p]));
  return reports.map((rep) => {
    const p = byPid.get(rep.pid);
    expect(p, `pid ${rep.pid} is not in the record`).toBeDefined();
    expect(p!.peakRss).toBeGreaterThanOrEqual(rep.touched);
    expect(p!.peakRss).toBeGreaterThanOrEqual(rep.hwm - SLACK);
    expect(p!.peakRss).toBeLessThanOrEqual(rep.hwm + SLACK);
    expect(p!.endMs).not.toBeNull();
    return p!;
  });
};

describe('memusage run: every process of the tree, traced', () => {
  it('a child that allocates 80 MiB and exits at once, under a shell that lives on, between two samples', () => {
    // One sample at the start, the next 5 s later: the child, started 0.1 s in, is never sampled.
    const { r, record, reports } = traced(['sh', '-c', `sleep 0.1; ${hog} alloc 80; sleep 0.2`], ['-i', '5']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(record.tracing.method).toBe('ptrace');
    expect(reports).toHaveLength(1);
    const [p] = expectEveryReport(record, reports);
    expect(p!.peakRss).toBeGreaterThanOrEqual(80 * MiB);
    expect(p!.peakRssSource).toBe('exit');
    expect(p!.name).toMatch(/^treehog/);
    expect(p!.argv).toEqual([hog, 'alloc', '80']);
    expect(p!.exit).toEqual({ code: 0, signal: null, status: 0 });
    expect(p!.ppid).toBe(record.pid);
    expect(p!.firstSeen).toBeNull();
    expect(record.samples.every((s) => s.members.every((m) => m.pid !== p!.pid))).toBe(true);
    expect(r.stderr).toMatch(/processes {2}every start and end seen \(ptrace/);
  });

  it('a child started while the shell waits is in the samples from its start (the tracer wakes the sampler)', () => {
    // The shell alone is read between the sampler's ticks (1 to 5 s apart with the status thread); the start
    // event of its child, which then holds 48 MiB for 0.8 s, must bring a tick at once. The shell waits 0.4 s
    // with a builtin (bash's read -t on a FIFO it opened itself) after `sleep` ended: no member exits near the
    // child's start to wake the sampler anyway.
    const fifo = join(dir, `fifo${++seq}`);
    execFileSync('mkfifo', [fifo]);
    const { r, record, reports } = traced([
      'bash',
      '-c',
      'sleep 0.3; read -t 0.4 <> "$1"; "$0" alloc 48 800; true',
      hog,
      fifo,
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const [p] = expectEveryReport(record, reports);
    const seen = record.samples.filter((s) => s.members.some((m) => m.pid === p!.pid));
    // Measured: a few ms after its start, then every interval (10 samples); without the wake-up, 0.3 s or
    // more and 2 samples.
    expect(seen.length).toBeGreaterThanOrEqual(5);
    expect(p!.startMs).not.toBeNull();
    expect(seen[0]!.t - p!.startMs!).toBeLessThan(150);
    expect(Math.max(...seen.map((s) => s.members.find((m) => m.pid === p!.pid)!.rss))).toBeGreaterThanOrEqual(
      48 * MiB,
    );
  });

  it('a fork loop: every process recorded, but no more samples than intervals (each start wakes the sampler)', () => {
    const { r, record } = traced(['sh', '-c', 'i=0; while [ $i -lt 300 ]; do /bin/true; i=$((i+1)); done']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(record.summary.processes).toHaveLength(301);
    // One sample per interval, give or take the first and last; a tick at each start would give hundreds.
    expect(record.samples.length).toBeLessThanOrEqual(Math.ceil(record.durationMs / 100) + 3);
  });

  it('a grandchild orphaned by a double fork: it, its parent and the command, each with its own peak', () => {
    const { r, record, reports } = traced([hog, 'orphan', '40']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(record.summary.processes).toHaveLength(3);
    const [grandchild, parent] = expectEveryReport(
      record,
      reports.sort((a, b) => b.touched - a.touched),
    );
    expect(grandchild!.peakRss).toBeGreaterThanOrEqual(40 * MiB);
    expect(parent!.pid).toBe(record.pid);
    const middle = record.summary.processes.find((p) => p.pid !== grandchild!.pid && p.pid !== parent!.pid)!;
    // Its parent at its start was the child that exited, not the command.
    expect(grandchild!.ppid).toBe(middle.pid);
    expect(middle.ppid).toBe(record.pid);
    expect(middle.endMs!).toBeLessThanOrEqual(grandchild!.endMs!);
  });

  it("an exec chain (sh -c 'exec python3 …'): one process, named for its last image, python's own peak", () => {
    const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
      encoding: 'utf8',
    }).trim();
    const script = [
      'import os',
      'x = bytearray(50 << 20)',
      "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]",
      "open(os.environ['TREEHOG_REPORT'], 'a').write(f'{os.getpid()} {hwm} {50 << 20}\\n')",
    ].join('\n');
    const { r, record, reports } = traced(['sh', '-c', `exec ${python} -c "$0"`, script]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(record.summary.processes).toHaveLength(1);
    const [p] = expectEveryReport(record, reports);
    expect(p!.pid).toBe(record.pid);
    expect(p!.name).toMatch(/^python3/);
    expect(p!.argv?.[0]).toBe(python);
  });

  it.each([
    ['SIGKILL', 9],
    ['SIGTERM', 15],
  ])('a command that kills itself with %s: its peak, the signal, status 128+N', (name, number) => {
    const { r, record, reports } = traced([hog, 'signal', '32', String(number)]);
    expect(r.exitCode).toBe(128 + number);
    expect(record.exit).toEqual({ code: null, signal: name, status: 128 + number });
    const [p] = expectEveryReport(record, reports);
    expect(p!.exit).toEqual({ code: null, signal: name, status: 128 + number });
    expect(p!.peakRss).toBeGreaterThanOrEqual(32 * MiB);
    expect(r.stderr).toMatch(new RegExp(`killed by ${name}`));
  });

  it('a tree of 200 short processes: all 201 recorded, each within a few hundred KiB of its own VmHWM', () => {
    const { r, record, reports } = traced([hog, 'tree', '200', '2']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(reports).toHaveLength(201);
    expect(record.summary.processes).toHaveLength(201);
    const peaks = expectEveryReport(record, reports);
    for (const p of peaks.filter((x) => x.pid !== record.pid)) expect(p.ppid).toBe(record.pid);
    expect(record.tracing.stops).toBeGreaterThanOrEqual(201 * 2);
  });

  it("run -- python3 -c 'x = bytearray(50 << 20)': a per-process peak of at least 50 MiB", () => {
    const { r, record } = traced(['python3', '-c', 'x = bytearray(50 << 20)']);
    expect(r.exitCode, r.stderr).toBe(0);
    const python = record.summary.processes.find((p) => p.name.startsWith('python3'))!;
    expect(python.peakRss).toBeGreaterThanOrEqual(50 * MiB);
  });

  it('run -- true: one process with a number, from its exit stop', () => {
    const { r, record } = traced(['true']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(record.summary.processes).toHaveLength(1);
    const [p] = record.summary.processes;
    expect(p!.name).toBe('true');
    expect(p!.peakRssSource).toBe('exit');
    expect(p!.peakRss).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/1 process:\n.*\n\s+\d+\s+\d+(\.\d)?[KM]\s+[\d.–]+ s\s+0\s+true\n/);
  });
});

describe('memusage run: as a normal user', () => {
  it.skipIf(!requireRoot())(
    'nobody traces its own command tree too: every process, its exit-stop peak',
    () => {
      try {
        const r = runAsNobody(nobodyBin(), [
          'run',
          '--json',
          '-',
          '--',
          '/bin/sh',
          '-c',
          '/bin/true; exit 2',
        ]);
        expect(r.exitCode, r.stderr).toBe(2);
        const record = JSON.parse(r.stdout) as RunRecord;
        expect(record.tracing.method).toBe('ptrace');
        const processes = record.summary.processes.map((p) => [p.name, p.peakRssSource, p.exit?.status]);
        expect(processes.sort()).toEqual([
          ['sh', 'exit', 2],
          ['true', 'exit', 0],
        ]);
      } finally {
        removeNobodyCopy();
      }
    },
  );
});

describe('memusage run: when the tree cannot be traced, it says so and samples', () => {
  it('--no-trace: sampled only, in the summary and the JSON', () => {
    const { r, record } = traced(['sh', '-c', `${hog} alloc 8 200`], ['--no-trace']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(record.tracing).toMatchObject({ method: 'sampling', stops: null });
    expect(record.tracing.reason).toMatch(/--no-trace/);
    expect(stderrLines(r).filter((l) => /sampled only, not traced/.test(l))).toHaveLength(1);
    expect(r.stderr).toMatch(/not seen by sampling:/);
  });

  it('memusage itself traced (here by another memusage-launch): ptrace is refused, the run samples', () => {
    const json = join(dir, 'nested.json');
    const r = spawnSync(LAUNCHER, ['--', BIN, 'run', '--json', json, '--', 'sh', '-c', 'sleep 1; true'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(r.status, r.stderr).toBe(0);
    const record = JSON.parse(readFileSync(json, 'utf8')) as RunRecord;
    expect(record.tracing.method).toBe('sampling');
    expect(record.tracing.reason).toMatch(/^ptrace refused \(Operation not permitted\)/);
    expect(r.stderr).toMatch(/sampled only, not traced: ptrace refused/);
    // Sampling still saw the command.
    expect(record.summary.processes.map((p) => p.name)).toContain('sh');
  });
});

describe('memusage run --runs / --warmup', () => {
  it('--runs 3 --warmup 1: three measured runs in the JSON, min <= median <= max of each peak', () => {
    const { r, record } = traced([hog, 'alloc', '16'], ['--runs', '3', '--warmup', '1']) as unknown as {
      r: ReturnType<typeof runCli>;
      record: RunsRecord;
    };
    expect(r.exitCode, r.stderr).toBe(0);
    expect(record.kind).toBe('runs');
    expect(record).toMatchObject({ warmup: 1, requested: 3, stopped: null });
    expect(record.runs).toHaveLength(3);
    const peaks = record.runs.map((run) => Math.max(...run.summary.processes.map((p) => p.peakRss)));
    for (const peak of peaks) expect(peak).toBeGreaterThanOrEqual(16 * MiB);
    const sorted = [...peaks].sort((a, b) => a - b);
    expect(record.stats.processPeakRss).toEqual({
      min: sorted[0],
      median: sorted[1],
      max: sorted[2],
      runs: 3,
    });
    expect(r.stderr).toMatch(/3 of 3 runs measured after 1 warm-up run/);
    expect(r.stderr).toMatch(/^\s+median\s/m);
  });

  it('stops at the first failing run, with its status', () => {
    const { r, record } = traced(['sh', '-c', 'exit 4'], ['--runs', '3']) as unknown as {
      r: ReturnType<typeof runCli>;
      record: RunsRecord;
    };
    expect(r.exitCode).toBe(4);
    expect(record.runs).toHaveLength(1);
    expect(record.stopped).toBe('run 1 of 3 exited with status 4');
  });

  it.each([
    [['--runs', '0'], /--runs <n>.*'0' is not a whole number >= 1/],
    [['--warmup', '-1'], /--warmup <n>/],
    [['--runs', '2', '--plot', join(dir, 'x.svg')], /--plot draws one run/],
  ])('%j: usage error, exit 2, one line', (opts, pattern) => {
    const r = runCli(['run', ...opts, '--', 'true']);
    expect(r.exitCode).toBe(2);
    expect(stderrLines(r)).toEqual([expect.stringMatching(pattern)]);
  });
});
