/**
 * `memusage top` through the real binary: bad input, --help/--list-columns, escaping, and every filter and
 * ordering option on memhog processes whose sizes are known (kept small with --pid).
 */
import { execFile } from 'node:child_process';
import { userInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { BIN, freePid, kernelThreadPid, runCli, stderrLines } from '../helpers/cli.js';
import { memhogTest } from '../helpers/memhog.js';

const MiB = 2 ** 20;

/** runCli, asynchronous, so that the many runs below can overlap. */
const runCliAsync = (args: readonly string[]) =>
  new Promise<{ exitCode: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? 128 : 0;
        resolve({ exitCode: code, stdout, stderr });
      },
    );
  });

// Every usage error of top is in test/unit/cli/usage-errors.test.ts (in process); two through the bin here.
describe('memusage top: bad input → one stderr line, exit 2 (through the bin)', () => {
  it.each([
    [['--columns', 'pid,bogus'], /unknown column 'bogus'/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
  ])('top %j', (args, pattern) => {
    const r = runCli(['top', ...args]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    const lines = stderrLines(r);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^memusage: /);
    expect(lines[0]).toMatch(pattern);
  });
});

describe('memusage top: --help and --list-columns', () => {
  it('--help lists every option', () => {
    const help = runCli(['top', '--help']);
    expect(help.exitCode).toBe(0);
    for (const option of [
      '-s, --sort <column>',
      '-r, --reverse',
      '-n, --limit <n>',
      '-c, --columns <list>',
      '--list-columns',
      '--totals',
      '--no-totals',
      '--no-header',
      '-p, --pid <list>',
      '-u, --user <name|uid>',
      '-P, --process <regex>',
      '--min <size>',
      '--by <what>',
      '-a, --all',
      '-v, --verbose',
      '--bytes',
      '--json',
      '--csv',
      '--once',
      '--watch <seconds>',
      '-i, --interval <seconds>',
      '--engine <name>',
    ]) {
      expect(help.stdout, option).toContain(option);
    }
  });

  it('--list-columns lists every column with its unit, and each is accepted by --columns and --sort', () => {
    // The column set; bytes for every size, a count or text for the rest.
    const expected: Record<string, string> = {
      pid: 'number',
      ppid: 'number',
      user: 'text',
      name: 'text',
      command: 'text',
      cgroup: 'text',
      count: 'number',
      swap: 'bytes',
      swappss: 'bytes',
      uss: 'bytes',
      pss: 'bytes',
      rss: 'bytes',
      vss: 'bytes',
      anon: 'bytes',
      file: 'bytes',
      shmem: 'bytes',
      pssanon: 'bytes',
      pssfile: 'bytes',
      pssshmem: 'bytes',
      thp: 'bytes',
      hugetlb: 'bytes',
      ksm: 'bytes',
      zeropage: 'bytes',
      '%mem': 'percent',
    };
    const r = runCli(['top', '--list-columns']);
    expect(r.exitCode).toBe(0);
    const listed = Object.fromEntries(
      r.stdout
        .split('\n')
        .filter((l) => /^%?[a-z]+ /.test(l))
        .map((l) => {
          const [id, , unit, ...description] = l.split(/\s+/);
          expect(description.join(' ').length, `${id} has a description`).toBeGreaterThan(5);
          return [id, unit];
        }),
    );
    expect(listed).toEqual(expected);
    expect(r.stdout).toMatch(/1024-based units/);
    const all = Object.keys(expected).join(',');
    const shown = runCli([
      'top',
      '--once',
      '--pid',
      String(process.pid),
      '--columns',
      all,
      '--sort',
      'zeropage',
    ]);
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout.split('\n')[0]).toMatch(
      /^\s*PID\s+PPID\s+USER\s+NAME\s+COMMAND\s+CGROUP\s+COUNT\s+SWAP/,
    );
  });
});

/** Data lines of a table (header, totals and blank lines dropped), split into cells. */
const tableRows = (stdout: string): string[][] =>
  stdout
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '' && !/\bTOTAL\b/.test(l))
    .map((l) => l.trim().split(/\s+/));

describe('memusage top: options on memhog processes', () => {
  memhogTest(
    'a name with ESC, tab and newline prints escaped in the table, exact in JSON',
    async ({ memhog }) => {
      const name = 'x\u001b[31mred\tt\nn';
      const hog = await memhog(['name', name]);
      const table = runCli(['top', '--once', '--pid', String(hog.pid), '--columns', 'pid,name,command']);
      expect(table.exitCode, table.stderr).toBe(0);
      expect(table.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
      expect(table.stdout).toContain('x\\e[31mred\\tt\\nn');
      const json = runCli(['top', '--once', '--json', '--pid', String(hog.pid)]);
      const doc = JSON.parse(json.stdout) as { processes: { name: string; argv: string[] }[] };
      const commHex = hog.expect.commHex as string;
      expect(Buffer.from(doc.processes[0]!.name, 'utf8').toString('hex')).toBe(commHex);
      expect(doc.processes[0]!.name).toBe(name);
      expect(doc.processes[0]!.argv).toContain(name);
    },
  );

  memhogTest('ordering, limits, header/totals, sizes and filters', async ({ memhog }) => {
    const [small, mid, big] = await Promise.all([
      memhog(['anon', '4']),
      memhog(['anon', '12']),
      memhog(['anon', '24']),
    ]);
    const pids = [small!.pid, mid!.pid, big!.pid];
    const list = pids.join(',');
    const me = userInfo();
    const other = me.uid === 0 ? 'nobody' : 'root';
    // Every query at once (each is a separate run of the binary), then the assertions.
    const queries = {
      plain: [],
      reverse: ['--reverse'],
      byPid: ['--sort', 'pid'],
      byPidReversed: ['--sort', 'pid', '-r'],
      limit: ['--limit', '2'],
      bare: ['--no-header', '--no-totals', '--columns', 'pid,rss', '--bytes'],
      totals: ['--columns', 'pid,rss', '--bytes'],
      min: ['--min', '10M'],
      minRss: ['--min', '20M', '--sort', 'rss'],
      process: ['--process', ' anon 12$'],
      processAlt: ['--process', 'anon (4|24)$'],
      userName: ['--user', me.username],
      userId: ['--user', String(me.uid)],
      otherUser: ['--user', other],
    } satisfies Record<string, string[]>;
    const out = Object.fromEntries(
      await Promise.all(
        Object.entries(queries).map(async ([key, args]) => {
          const r = await runCliAsync(['top', '--once', '--pid', list, ...args]);
          expect(r.exitCode, `${key}: ${r.stderr}`).toBe(0);
          return [key, r.stdout] as const;
        }),
      ),
    ) as Record<keyof typeof queries, string>;
    const firstColumn = (stdout: string) => tableRows(stdout).map((cells) => Number(cells[0]));
    const [s, m, b] = pids;

    // Default: PSS, largest first; header line and a TOTAL row.
    expect(out.plain.split('\n')[0]).toMatch(/^\s*PID\s+USER\s+SWAP\s+USS\s+PSS\s+RSS\s+COMMAND$/);
    expect(firstColumn(out.plain)).toEqual([b, m, s]);
    expect(out.plain).toMatch(/^\s+TOTAL\s/m);
    expect(firstColumn(out.reverse)).toEqual([s, m, b]);
    expect(firstColumn(out.byPid)).toEqual([...pids].sort((x, y) => y - x));
    expect(firstColumn(out.byPidReversed)).toEqual([...pids].sort((x, y) => x - y));
    expect(firstColumn(out.limit)).toEqual([b, m]);

    const lines = out.bare.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const rss = new Map(lines.map((l) => l.trim().split(/\s+/).map(Number) as [number, number]));
    // Each built region is resident, plus a baseline under 1 MiB.
    for (const [pid, mib] of [
      [s, 4],
      [m, 12],
      [b, 24],
    ] as const) {
      expect(rss.get(pid!)).toBeGreaterThanOrEqual(mib * MiB);
      expect(rss.get(pid!)).toBeLessThan((mib + 1) * MiB);
    }
    // The totals row is labelled in the PID column when no text column is shown, and explained by the
    // line under it. Its RSS counts each page once: these processes share nothing but the vDSO, so it is
    // the sum of the rows less a few pages (test/live/top-totals.test.ts checks shared regions).
    const [totals, legend] = out.totals.trimEnd().split('\n').slice(-2);
    expect(totals).toMatch(/^\s*TOTAL\s+\d+$/);
    expect(legend).toMatch(/^TOTAL RSS: each page once; USS: pages only these processes map; others: sums$/);
    const rows = tableRows(out.totals).map(([, v]) => Number(v));
    const sum = rows.reduce((x, y) => x + y);
    expect(Number(totals!.trim().split(/\s+/)[1])).toBeLessThanOrEqual(sum);
    expect(Number(totals!.trim().split(/\s+/)[1])).toBeGreaterThan(sum - 64 * 1024);

    expect(firstColumn(out.min)).toEqual([b, m]);
    expect(firstColumn(out.minRss)).toEqual([b]);
    expect(firstColumn(out.process)).toEqual([m]);
    expect(firstColumn(out.processAlt)).toEqual([b, s]);
    expect(firstColumn(out.userName)).toEqual([b, m, s]);
    expect(firstColumn(out.userId)).toEqual([b, m, s]);
    expect(tableRows(out.otherUser)).toEqual([]);
  });

  memhogTest(
    '--pid with a missing PID: the others printed, exit 3, the missing one named',
    async ({ memhog }) => {
      const hog = await memhog(['anon', '2']);
      const missing = freePid();
      const r = runCli(['top', '--once', '--pid', `${hog.pid},${missing}`, '--columns', 'pid']);
      expect(r.exitCode).toBe(3);
      expect(tableRows(r.stdout).map((c) => Number(c[0]))).toEqual([hog.pid]);
      expect(r.stderr).toContain(String(missing));
    },
  );

  it('--pid with a kernel thread: not a row, named on stderr, exit 3 (as `pid` does)', () => {
    const kthread = kernelThreadPid();
    const r = runCli(['top', '--once', '--pid', String(kthread), '--columns', 'pid']);
    expect(r.exitCode).toBe(3);
    expect(tableRows(r.stdout)).toEqual([]);
    expect(r.stderr).toContain(`${kthread} is a kernel thread: it has no user memory`);
    const all = runCli(['top', '--once', '--all', '--pid', String(kthread), '--columns', 'pid,rss']);
    expect(all.exitCode).toBe(0);
    expect(tableRows(all.stdout).map((c) => Number(c[0]))).toEqual([kthread]);
  });
});
