/** `memusage run` through the real bin: exit statuses like a shell, the summary, the files it writes. */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/sample/record.js';
import { BIN, runCli, stderrLines } from '../helpers/cli.js';
import { memhogPath } from '../helpers/memhog.js';
import { nobodyBin, removeNobodyCopy, runAsNobody } from '../helpers/nobody.js';
import { requireRoot } from '../helpers/require-root.js';

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'memusage-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('memusage run: exit statuses', () => {
  it('no command → usage error, exit 2, one line', () => {
    const r = runCli(['run']);
    expect(r.exitCode).toBe(2);
    expect(stderrLines(r)).toEqual([expect.stringMatching(/^memusage: run needs a command/)]);
  });

  it('a command that does not exist → 127; not executable → 126; one line each', () => {
    const missing = runCli(['run', '--', 'no-such-command-memusage']);
    expect(missing.exitCode).toBe(127);
    expect(stderrLines(missing)).toEqual(['memusage: no-such-command-memusage: command not found']);
    const notExec = runCli(['run', '--', '/etc/passwd']);
    expect(notExec.exitCode).toBe(126);
    expect(stderrLines(notExec)).toEqual(['memusage: /etc/passwd: permission denied']);
  });

  it("exits with the command's status, 128+N when it was killed by signal N", () => {
    const three = runCli(['run', '--', 'sh', '-c', 'exit 3']);
    expect(three.exitCode).toBe(3);
    expect(three.stderr).toMatch(/exited with status 3/);
    const killed = runCli(['run', '--', 'sh', '-c', 'kill -TERM $$']);
    expect(killed.exitCode).toBe(143);
    expect(killed.stderr).toMatch(/killed by SIGTERM/);
  });

  it("passes its options to the command after --; with --json - the command's stdout goes to stderr", () => {
    const r = runCli(['run', '--json', '-', '--', 'sh', '-c', 'echo "$1"', 'sh', '--json']);
    expect(r.exitCode).toBe(0);
    // stdout is the report alone (| jq works); what the command printed reached the user on stderr.
    const record = JSON.parse(r.stdout) as RunRecord;
    expect(record.command).toEqual(['sh', '-c', 'echo "$1"', 'sh', '--json']);
    expect(stderrLines(r)[0]).toBe('--json');
  });
  it('gives the command the NODE_EXTRA_CA_CERTS the user set, which its own Node start-up skipped', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell script; sh expands these.
    const script = 'printf "%s|%s" "${NODE_EXTRA_CA_CERTS-unset}" "${MEMUSAGE_NODE_EXTRA_CA_CERTS-unset}"';
    const set = runCli(['run', '--', 'sh', '-c', script], { NODE_EXTRA_CA_CERTS: '/some dir/extra.pem' });
    expect(set.exitCode).toBe(0);
    expect(set.stdout).toBe('/some dir/extra.pem|unset');
    const { NODE_EXTRA_CA_CERTS: _, ...withoutIt } = process.env;
    const unset = spawnSync(BIN, ['run', '--', 'sh', '-c', script], { encoding: 'utf8', env: withoutIt });
    expect(unset.status).toBe(0);
    expect(unset.stdout).toBe('unset|unset');
  });

  it('forwards SIGTERM to the command and still writes the summary', async () => {
    const child = spawn(process.execPath, [BIN, 'run', '--', memhogPath(), 'hold', '8', '30'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const started = Date.now();
    while (!stdout.includes('"hold"') && Date.now() - started < 10_000)
      await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(143);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(stderr).toMatch(/killed by SIGTERM \(status 143\)/);
    expect(stderr).toMatch(/tree PSS\s+peak/);
  });
});

describe('memusage run: a signal while the command starts', () => {
  it('a SIGTERM that arrives while the command is being started is passed on, and the summary written', async () => {
    // The command signals memusage (its launcher's parent) at once. memusage used to start listening only
    // once it had read the launcher's first line; on a loaded machine the signal could come first and end
    // it by Node's default action (seen once in a full run: exit by signal, no summary). Quiet, Node reads
    // the line first, so this passes on that code too: it keeps the early path working.
    const script = 'set -- $(cat /proc/$PPID/stat); kill -TERM $4; sleep 5';
    const child = spawn(process.execPath, [BIN, 'run', '--', 'sh', '-c', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.on('exit', (c, s) => resolve([c, s])),
    );
    expect([code, signal], stderr).toEqual([143, null]);
    expect(stderr).toMatch(/killed by SIGTERM \(status 143\)/);
  });
});

describe('memusage run: --cpu-budget bounds all of its CPU', () => {
  it('samples alone costing more than the budget: a note says snapshots were kept to their floor', () => {
    const json = join(dir, 'budget.json');
    // 100 samples a second cost far more than 0.1% of a core on any machine.
    const r = runCli(['run', '-i', '0.01', '--cpu-budget', '0.1', '--json', json, '--', 'sleep', '1.5']);
    expect(r.exitCode).toBe(0);
    const record = JSON.parse(readFileSync(json, 'utf8')) as RunRecord;
    expect(record.cpuBudget).toBeCloseTo(0.001, 9);
    // The record meters what the budget charges: all the CPU memusage used while sampling.
    const snapshots = record.samples.reduce((sum, s) => sum + (s.snapshotCpuMs ?? 0), 0);
    expect(record.samplerCpuMs).toBeGreaterThan(snapshots);
    const note = record.notes.find((n) => n.includes('kept near their floor'));
    expect(note).toMatch(/^besides its exact snapshots this process used \d+\.\d% of a core/);
    expect(r.stderr).toContain(note);
  });
});

describe('memusage run: --json, --csv and --plot are never the "--" before CMD', () => {
  /** Run in a fresh directory so that a file named '--' (the old mistake) would be seen. */
  const runIn = (cwd: string, args: string[]) => {
    const r = spawnSync(BIN, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    return { exitCode: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('--json -- true: the JSON goes to stdout, no file named "--" is written', () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    const r = runIn(cwd, ['run', '--json', '--', 'true']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as RunRecord).command).toEqual(['true']);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it.each([
    [['--json'], (out: string) => (JSON.parse(out) as RunRecord).command],
    [['--json', '-'], (out: string) => (JSON.parse(out) as RunRecord).command],
    [['--csv'], (out: string) => out.split('\n')[0]],
  ])("%j -- sh -c 'echo x': stdout is one document, the command's x is on stderr", (opts, parse) => {
    const r = runCli(['run', ...opts, '--', 'sh', '-c', 'echo x']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/^x$/m);
    expect(parse(r.stdout)).toEqual(
      opts[0] === '--csv' ? 'record,t_ms,processes,rss_sum,rss,pss,uss,wss,pid,name' : ['sh', '-c', 'echo x'],
    );
    expect(stderrLines(r)[0]).toBe('x');
  });

  it("--json -- CMD: stdout is the whole document (JSON.parse, stricter than jq), with CMD's status", () => {
    const r = runCli(['run', '--json', '--', 'sh', '-c', 'echo x; exit 5']);
    expect(r.exitCode).toBe(5);
    expect((JSON.parse(r.stdout) as RunRecord).exit?.status).toBe(5);
    expect(stderrLines(r)[0]).toBe('x');
  });

  const existingDir = mkdtempSync(join(dir, 'existing-'));
  it.each([
    [
      ['--plot', '/nonexistent/x.svg'],
      /^memusage: --plot \/nonexistent\/x.svg: cannot write: directory \/nonexistent does not exist$/,
    ],
    [
      ['--json', '/etc/passwd/x.json'],
      /^memusage: --json \/etc\/passwd\/x.json: cannot write: \/etc\/passwd is not a directory$/,
    ],
    [['--csv', existingDir], /^memusage: --csv .*: cannot write: .* is a directory$/],
    [['--json', '-', '--csv', '-'], /^memusage: --json and --csv cannot both write to stdout/],
    [['--csv', '--json'], /^memusage: --json and --csv cannot both write to stdout/],
    [['--json', join(dir, 'same'), '--plot', `${dir}/./same`], /^memusage: --json and --plot both write /],
    [['--json', '--csv', '-', '--plot', '-'], /^memusage: --json, --csv, --plot cannot all write to stdout/],
    [['--plot'], /^memusage: option '--plot <file>' argument '--' is invalid\. '--' is not a file name/],
    [['--plot', '--json'], /^memusage: option '--plot <file>' argument '--json' is invalid/],
  ])('%j -- CMD: usage error before CMD starts (exit 2, one line, CMD never runs)', (opts, pattern) => {
    const marker = join(dir, `ran-${opts.join('_').replace(/\W/g, '')}`);
    const r = runCli(['run', ...opts, '--', 'sh', '-c', `touch ${marker}; exit 0`]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(stderrLines(r)).toEqual([expect.stringMatching(pattern)]);
    expect(existsSync(marker), 'the command ran').toBe(false);
  });

  it.skipIf(!requireRoot())(
    'a directory the user cannot write: usage error before CMD starts (as nobody)',
    () => {
      // Root may write anywhere, so the check is seen as nobody: a root-owned 0755 directory is not writable.
      const closed = mkdtempSync(join(tmpdir(), 'memusage-closed-'));
      const open = mkdtempSync(join(tmpdir(), 'memusage-open-'));
      chmodSync(closed, 0o755);
      chmodSync(open, 0o777);
      try {
        const marker = join(open, 'ran');
        const r = runAsNobody(nobodyBin(), [
          'run',
          '--json',
          join(closed, 'r.json'),
          '--',
          'sh',
          '-c',
          `touch ${marker}`,
        ]);
        expect(r.exitCode).toBe(2);
        expect(r.stderr).toBe(
          `memusage: --json ${join(closed, 'r.json')}: cannot write: directory ${closed} is not writable\n`,
        );
        expect(existsSync(marker), 'the command ran').toBe(false);
      } finally {
        rmSync(closed, { recursive: true, force: true });
        rmSync(open, { recursive: true, force: true });
        removeNobodyCopy();
      }
    },
  );
});

describe.skipIf(!requireRoot())('memusage run: accuracy against memhog', () => {
  const hog = memhogPath();

  it('two concurrent 100 MiB children: peak tree USS ≈ 200 MiB (time -v would say ~100 MiB)', () => {
    const json = join(dir, 'two.json');
    const r = runCli([
      'run',
      '--json',
      json,
      '--',
      'sh',
      '-c',
      `${hog} hold 100 2 & ${hog} hold 100 2 & wait`,
    ]);
    expect(r.exitCode).toBe(0);
    const record = JSON.parse(readFileSync(json, 'utf8')) as RunRecord;
    const uss = record.summary.uss.peak!.value;
    expect(uss).toBeGreaterThanOrEqual(200 * MiB);
    expect(uss).toBeLessThanOrEqual(200 * MiB * 1.05);
    expect(record.summary.pss.peak!.value).toBeGreaterThanOrEqual(200 * MiB);
    const memhogs = record.summary.processes.filter(
      (p) => p.name === 'memhog' || p.name.startsWith('memhog'),
    );
    expect(memhogs).toHaveLength(2);
    for (const p of memhogs) expect(p.peakRss).toBeGreaterThanOrEqual(100 * MiB);
    // Every sample is one snapshot of the tree: the members of one sample have distinct PIDs.
    for (const s of record.samples) expect(new Set(s.members.map((m) => m.pid)).size).toBe(s.members.length);
  });

  it('a child that holds 200 MiB for 1 s then exits: the peak is at least 200 MiB', () => {
    const json = join(dir, 'hold.json');
    const r = runCli(['run', '--cpu-budget', '20', '--json', json, '--', hog, 'hold', '200', '1']);
    expect(r.exitCode).toBe(0);
    const record = JSON.parse(readFileSync(json, 'utf8')) as RunRecord;
    expect(record.summary.processes[0]!.peakRss).toBeGreaterThanOrEqual(200 * MiB);
    expect(record.summary.rssSum.peak!.value).toBeGreaterThanOrEqual(200 * MiB);
    expect(record.summary.pss.peak!.value).toBeGreaterThanOrEqual(200 * MiB);
    expect(r.stderr).not.toMatch(/maxrss/i);
  });

  it('follows a shell wrapper to the real process; --csv and --plot are written', () => {
    const csv = join(dir, 'wrap.csv');
    const svg = join(dir, 'wrap.svg');
    const r = runCli(['run', '--csv', csv, '--plot', svg, '--', 'sh', '-c', `${hog} hold 64 0.6; true`]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/memhog/);
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('record,t_ms,processes,rss_sum,rss,pss,uss,wss,pid,name');
    const peak = rows.find((l) => /^process_peak,.*,memhog[^,]*$/.test(l))!;
    expect(Number(peak.split(',')[3])).toBeGreaterThanOrEqual(64 * MiB);
    expect(rows.some((l) => l.startsWith('peak_pss,'))).toBe(true);
    const plot = readFileSync(svg, 'utf8');
    expect(plot).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(plot).toMatch(/peak PSS \d/);
    expect(plot).toMatch(/time \(seconds\)/);
  });
});
