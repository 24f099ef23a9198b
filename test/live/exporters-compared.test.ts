/**
 * What other programs make of memusage's output, and how its figures compare with process-exporter's
 * (live, root; Debian's node_exporter 1.5, process-exporter 0.7.10 and promtool, each on its own port and
 * directory). Only the test's processes are measured (hidden --pid).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { parseExposition, startExporterProgram, startServe, tempDir } from '../helpers/exporters.js';
import { readRollupKb } from '../helpers/kernel.js';
import { memhogPath, memhogTest } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Names a label value must survive: quote, backslash, newline, ESC (and, below, bytes that are not UTF-8). */
const HOSTILE = ['q"uote', 'back\\slash', 'new\nline', 'esc\x1b[31m'];

/**
 * A memhog whose comm is not UTF-8: Node passes arguments as UTF-8, so sh's printf makes the bytes. Stops
 * when its stdin closes.
 */
const startBadName = async (): Promise<{ pid: number; stop: () => void }> => {
  const child = spawn('sh', ['-c', `exec "$0" name "$(printf 'bad\\377\\376utf')"`, memhogPath()], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve) =>
    child.stdout.once('data', (d: Buffer) => resolve(d.toString())),
  );
  const pid = (JSON.parse(line) as { pids: number[] }).pids[0]!;
  return { pid, stop: () => child.kill('SIGKILL') };
};

/** The private copy a memhog runs as: its argv[0], unique to this test process. */
const argv0 = (pid: number): string => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!;

const promtool = (text: string) =>
  spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });

describe.skipIf(!requireRoot())('memusage export and serve read by other programs (live, root)', () => {
  memhogTest(
    "export --output is read by node_exporter's textfile collector; promtool finds nothing; hostile names survive",
    async ({ memhog }) => {
      // comm (set with prctl) is what the rules below name the groups by.
      const hogs = await Promise.all(HOSTILE.map((name) => memhog(['name', name])));
      const bad = await startBadName();
      const tmp = tempDir('textfile');
      try {
        const rules = join(tmp.dir, 'rules.yml');
        writeFileSync(rules, 'process_names:\n  - name: "{{.Comm}}"\n    cmdline: [memusage-test/]\n');
        const output = join(tmp.dir, 'memusage.prom');
        const pids = [...hogs.map((h) => h.pid), bad.pid].join(',');
        const r = runCli(['export', '--group-rules', rules, '--pid', pids, '--output', output]);
        expect([r.exitCode, r.stdout, r.stderr]).toEqual([0, '', '']);
        // Only the file itself is left: the temporary file was renamed over it.
        expect(readdirSync(tmp.dir).sort()).toEqual(['memusage.prom', 'rules.yml']);
        const text = readFileSync(output, 'utf8');
        const lint = promtool(text);
        expect([lint.status, lint.stdout, lint.stderr]).toEqual([0, '', '']);
        for (const name of ['q\\"uote', 'back\\\\slash', 'new\\nline', 'esc\x1b[31m', 'bad\ufffd\ufffdutf'])
          expect(text).toContain(`memusage_group_pss_bytes{group="${name}"}`);

        const node = await startExporterProgram('prometheus-node-exporter', (port) => [
          `--web.listen-address=127.0.0.1:${port}`,
          '--collector.disable-defaults',
          '--collector.textfile',
          `--collector.textfile.directory=${tmp.dir}`,
        ]);
        try {
          const scraped = await (await fetch(node.url)).text();
          const values = parseExposition(scraped);
          expect(values.get('node_textfile_scrape_error')).toBe(0);
          const mine = [...values].filter(([k]) => k.startsWith('memusage_group_pss_bytes{'));
          expect(mine).toHaveLength(HOSTILE.length + 1);
          for (const [, value] of mine) expect(value).toBeGreaterThanOrEqual(MiB);
          expect(scraped).toContain('memusage_group_pss_bytes{group="new\\nline"}');
        } finally {
          await node.stop();
        }
      } finally {
        bad.stop();
        tmp.remove();
      }
    },
  );

  memhogTest(
    "process-exporter with the same rules file: its proportionalResident is memusage's PSS, its resident double-counts",
    async ({ memhog }) => {
      const shared = await memhog(['shared', '32', '7']);
      const tmp = tempDir('process-exporter');
      try {
        const rules = join(tmp.dir, 'rules.yml');
        // One file for both programs: process-exporter's matcher syntax is what --group-rules reads.
        writeFileSync(rules, `process_names:\n  - name: helper\n    exe: [${argv0(shared.pid)}]\n`);
        const serve = await startServe(['--group-rules', rules, '--pid', shared.pids.join(',')]);
        const pe = await startExporterProgram('prometheus-process-exporter', (port) => [
          `-web.listen-address=127.0.0.1:${port}`,
          `-config.path=${rules}`,
          '-threads=false',
        ]);
        try {
          const ours = parseExposition(await (await fetch(serve.url)).text());
          const theirs = parseExposition(await (await fetch(pe.url)).text());
          const kernel = shared.pids.map((pid) => readRollupKb(pid));
          const pss = ours.get('memusage_group_pss_bytes{group="helper"}')!;
          const rss = ours.get('memusage_group_rss_bytes{group="helper"}')!;
          const theirPss = theirs.get(
            'namedprocess_namegroup_memory_bytes{groupname="helper",memtype="proportionalResident"}',
          )!;
          const theirRss = theirs.get(
            'namedprocess_namegroup_memory_bytes{groupname="helper",memtype="resident"}',
          )!;
          expect(theirs.get('namedprocess_namegroup_num_procs{groupname="helper"}')).toBe(8);
          // process-exporter sums each member's smaps_rollup Pss (kB): at most 1 KiB per member apart.
          expect(Math.abs(theirPss - pss)).toBeLessThanOrEqual(8 * KiB);
          expect(Math.abs(kernel.reduce((s, r) => s + r.Pss! * KiB, 0) - pss)).toBeLessThanOrEqual(8 * KiB);
          // Its resident is the members' stat RSS summed: the 32 MiB region eight times. memusage's RSS
          // counts each page once.
          expect(theirRss).toBeGreaterThan(8 * 32 * MiB);
          expect(rss).toBeGreaterThanOrEqual(32 * MiB);
          expect(rss).toBeLessThan(32 * MiB + 8 * MiB);
          expect(theirRss - rss).toBeGreaterThan(7 * 32 * MiB);
        } finally {
          await pe.stop();
          await serve.stop();
        }
      } finally {
        tmp.remove();
      }
    },
  );
});
