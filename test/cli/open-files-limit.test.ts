/**
 * memusage under a low open-files limit (`ulimit -n`). Node raises the soft RLIMIT_NOFILE to the hard one
 * at start-up and holds about 19 descriptors itself, so with `ulimit -n 40` about 20 are free: batches of
 * processes must fit them. With `ulimit -n 20` not even one process fits: one line naming `ulimit -n`,
 * never an empty table with exit 0.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, type CliResult, runCli } from '../helpers/cli.js';
import { stableKernelReading } from '../helpers/kernel.js';
import { memhogTest } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';

const root = requireRoot();

/**
 * bin/memusage under `ulimit -n LIMIT` (soft and hard), from a bash that first closes every descriptor
 * but stdio it inherited from the test runner, as a login shell would have none.
 */
const runLimited = (limit: number, args: readonly string[]): CliResult => {
  const script =
    'for fd in /proc/$$/fd/*; do n=$(basename "$fd"); [ -e "$fd" ] && [ "$n" -gt 2 ] && eval "exec $n>&-"; done; ' +
    'ulimit -n "$0" && exec "$@"';
  const r = spawnSync('bash', ['-c', script, String(limit), BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 240_000,
  });
  return { exitCode: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
};

interface TopJson {
  processes: { pid: number; rss: number }[];
  skipped: { pid: number; reason: string; message: string }[];
}

const topPids = (r: CliResult): Set<number> => {
  expect(r.exitCode).toBe(0);
  return new Set((JSON.parse(r.stdout) as TopJson).processes.map((p) => p.pid));
};

const oneErrorLine = (r: CliResult) => {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^memusage: .*ulimit -n/);
};

/** top --once --json under ulimit -n 40 leaves out none of the processes alive across two unlimited runs. */
const expectEveryProcessMeasured = () => {
  const before = topPids(runCli(['top', '--once', '--json']));
  const limited = runLimited(40, ['top', '--once', '--json']);
  const after = topPids(runCli(['top', '--once', '--json']));
  expect(limited.exitCode).toBe(0);
  const doc = JSON.parse(limited.stdout) as TopJson;
  // Nothing left out for an I/O error (EMFILE was one, for all but the first few processes).
  expect(doc.skipped.filter((s) => s.reason === 'error')).toEqual([]);
  const measured = new Set(doc.processes.map((p) => p.pid));
  const lived = [...before].filter((pid) => after.has(pid));
  // Well over one batch's worth at this limit, or the test would prove nothing.
  expect(lived.length).toBeGreaterThan(40);
  expect(lived.filter((pid) => !measured.has(pid))).toEqual([]);
};

describe.skipIf(!root)('a low open-files limit', () => {
  it('ulimit -n 40: top --once measures every process that lived through the runs without the limit', () => {
    // Many more processes than one batch holds at this limit (about 7), even in a near-empty container.
    const sleepers = execFileSync(
      'sh',
      ['-c', 'for i in $(seq 40); do sleep 600 </dev/null >/dev/null 2>&1 & echo $!; done'],
      { encoding: 'utf8' },
    )
      .trim()
      .split('\n')
      .map(Number);
    try {
      expectEveryProcessMeasured();
    } finally {
      for (const pid of sleepers) process.kill(pid, 'SIGKILL');
    }
    // Three whole-machine snapshots: minutes on a loaded machine with a large population.
  }, 300_000);

  memhogTest('ulimit -n 40: pid measures its process as the kernel does', async ({ memhog }) => {
    const hog = await memhog(['anon', '8']);
    const { before, result } = stableKernelReading(hog.pid, () =>
      runLimited(40, ['pid', String(hog.pid), '--json']),
    );
    expect(result.exitCode).toBe(0);
    const [p] = (JSON.parse(result.stdout) as TopJson).processes;
    expect(p?.pid).toBe(hog.pid);
    expect(p?.rss).toBe(before.Rss! * 1024);
  });

  it.each([
    [['top', '--once']],
    [['top', '--once', '--json']],
    [['pid', String(process.pid)]],
    [['libs']],
    [['system']],
  ])('ulimit -n 20: %j measures everything or says why in one line, exit 1', (args) => {
    const r = runLimited(20, args);
    if (r.exitCode === 0 && args.includes('--json')) {
      // A Node that needs fewer descriptors of its own may fit a process: then nothing may be missing.
      expect((JSON.parse(r.stdout) as TopJson).skipped.filter((s) => s.reason === 'error')).toEqual([]);
      return;
    }
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    oneErrorLine(r);
  });
});
