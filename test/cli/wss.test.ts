/** `memusage wss` through the real bin: the warning in --help, exit codes, the JSON/CSV/table shapes. */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { WssRecord } from '../../src/sample/record.js';
import { runCli, stderrLines } from '../helpers/cli.js';
import { memhogTest } from '../helpers/memhog.js';
import { AS_NOBODY, nobodyBin, removeNobodyCopy } from '../helpers/nobody.js';
import { requireRoot } from '../helpers/require-root.js';

const MiB = 1024 * 1024;

describe('memusage wss: help and usage errors', () => {
  memhogTest('--help says plainly what clearing referenced bits does', () => {
    for (const cmd of ['wss', 'run']) {
      const help = runCli([cmd, '--help']).stdout.replace(/\s+/g, ' ');
      expect(help).toMatch(/WRITES \/proc\/PID\/clear_refs/);
      expect(help).toMatch(/look cold to reclaim/);
      expect(help).toMatch(/mmap lock/);
    }
  });

  // Usage errors (exit 2) are in test/unit/cli/usage-errors.test.ts (in process).
  memhogTest('a missing PID → exit 3', () => {
    const missing = runCli(['wss', '-n', '1', '--json', '4194000']);
    expect(missing.exitCode).toBe(3);
    expect(stderrLines(missing)).toEqual(['memusage: no process with PID 4194000']);
    expect((JSON.parse(missing.stdout) as WssRecord).samples).toEqual([]);
  });
});

// Windows of 1 s: the busy helper must rewrite its whole hot set within each, and under the full suite's
// load on two cores it was seen short of it in 0.3-0.4 s windows.
describe.skipIf(!requireRoot())('memusage wss on memhog busy', () => {
  memhogTest('--json: method and one sample per window, in bytes', async ({ memhog }) => {
    const hog = await memhog(['busy', '48', '12']);
    const r = runCli(['wss', String(hog.pid), '-n', '2', '-i', '1', '--json']);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout) as WssRecord;
    expect(doc.method).toBe('clear-refs');
    expect(doc.methodReason).toMatch(/page_idle/);
    expect(doc.samples).toHaveLength(2);
    for (const s of doc.samples) {
      expect(Object.keys(s)).toEqual(expect.arrayContaining(['pid', 't', 'wss', 'anon', 'file', 'rss']));
      expect(s.pid).toBe(hog.pid);
      expect(Math.abs(s.anon - 12 * MiB)).toBeLessThanOrEqual(0.02 * 12 * MiB + 256 * 1024);
      expect(s.rss).toBeGreaterThanOrEqual(48 * MiB);
    }
    expect(doc.samples[1]!.t).toBeGreaterThan(doc.samples[0]!.t);
  });

  memhogTest('table says the method and prints WSS% of RSS; --csv and --maps', async ({ memhog }) => {
    const hog = await memhog(['busy', '40', '10']);
    const table = runCli(['wss', String(hog.pid), '-n', '1', '-i', '1', '--maps']);
    expect(table.exitCode).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(/^# working set by clear-refs over 1 s windows/);
    expect(lines[1]).toMatch(/TIME\s+PID\s+WSS\s+ANON\s+FILE\s+RSS\s+WSS%\s+COMMAND/);
    expect(lines[2]).toMatch(
      new RegExp(`\\s${hog.pid}\\s+\\S+\\s+\\S+\\s+\\S+\\s+\\S+\\s+\\d+\\.\\d%\\s+\\S`),
    );
    // The hot region is the most-touched mapping, first under the process row: 10M of 40M, 25%.
    expect(lines[3]).toMatch(/^\s+10\.0M\s+anon\s+40\.0M\s+25\.0%\s+[0-9a-f]{12}-[0-9a-f]{12} rw-p/);
    const csv = runCli(['wss', String(hog.pid), '-n', '1', '-i', '0.3', '--csv']);
    const rows = csv.stdout.trim().split('\n');
    expect(rows[0]).toBe(
      'method,t_ms,window_ms,pid,name,wss,anon,file,rss,map_start,map_end,map_perms,map_name',
    );
    expect(rows[1]).toMatch(new RegExp(`^clear-refs,\\d+,\\d+,${hog.pid},[^,]+,\\d+,\\d+,\\d+,\\d+,,,,$`));
  });
});

describe.skipIf(!requireRoot())('memusage wss as an unprivileged user (setpriv to nobody)', () => {
  afterAll(removeNobodyCopy);

  it("measures the user's own process: clear_refs (mode 0200) is opened write-only", () => {
    const bin = nobodyBin();
    // The shell is nobody's own process, so nobody may write its clear_refs; $$ is its PID.
    const r = spawnSync(
      'setpriv',
      [
        ...AS_NOBODY,
        'sh',
        '-c',
        `echo $$; "${process.execPath}" "${bin}" wss $$ -n 1 -i 0.2 --json; echo "exit $?"`,
      ],
      { encoding: 'utf8', cwd: '/', env: { ...process.env, NO_COLOR: '1' } },
    );
    const [shellPid, ...rest] = r.stdout.trim().split('\n');
    expect(r.stderr).toBe('');
    expect(rest.pop()).toBe('exit 0');
    const doc = JSON.parse(rest.join('\n')) as WssRecord;
    expect(doc.method).toBe('clear-refs');
    expect(doc.samples).toHaveLength(1);
    const sample = doc.samples[0]!;
    expect(sample.pid).toBe(Number(shellPid));
    // A shell waiting for its child touches little, but its RSS is real and WSS cannot exceed it.
    expect(sample.rss).toBeGreaterThan(0);
    expect(sample.wss).toBeLessThanOrEqual(sample.rss);
  });
});
