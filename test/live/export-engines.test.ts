/**
 * What the DaemonSet and the systemd unit promise (live, root): with CAP_SYS_ADMIN the pagemap engine and
 * exact group RSS; without it (a bounding set that drops it, as in a container without the capability)
 * the smaps_rollup engine, said in memusage_build_info, with RSS and USS as member sums. And --by unit
 * names the group after the cgroup path's deepest .service or .scope, in export and in top alike.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { parseExposition } from '../helpers/exporters.js';
import { readRollupKb } from '../helpers/kernel.js';
import { memhogTest } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** `memusage export ARGS` under a capability bounding set (setpriv, util-linux): its parsed exposition. */
const exportUnder = (bounding: string, args: string[]): Map<string, number> => {
  const r = spawnSync('setpriv', ['--bounding-set', bounding, BIN, 'export', ...args], { encoding: 'utf8' });
  expect([r.status, r.stderr]).toEqual([0, '']);
  return parseExposition(r.stdout);
};

/** The memory cgroup path of a process, and its unit by the rule the man page gives. */
const unitOf = (pid: number): string => {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const path =
    lines.find((l) => l.split(':')[1]!.split(',').includes('memory'))?.split(':')[2] ??
    lines.find((l) => l.startsWith('0::'))!.slice(3);
  const parts = path.split('/').filter((p) => p !== '');
  return (
    parts.findLast((p) => /\.(service|scope)$/.test(p)) ?? parts.findLast((p) => p.endsWith('.slice')) ?? path
  );
};

describe.skipIf(!requireRoot())('export: engines and --by unit (live, root)', () => {
  memhogTest(
    'without CAP_SYS_ADMIN: smaps_rollup engine and member sums; with it: exact',
    async ({ memhog }) => {
      // 16 MiB MAP_SHARED, faulted in by a parent and 3 children.
      const hog = await memhog(['shared', '16', '3']);
      const args = ['--pid', hog.pids.join(','), '--by', 'command'];
      const exact = exportUnder('-all,+sys_admin,+sys_ptrace,+dac_read_search', args);
      const sums = exportUnder('-all,+sys_ptrace,+dac_read_search', args);
      const series = (m: Map<string, number>, name: string) =>
        [...m].filter(([k]) => k.startsWith(`${name}{`)).map(([, v]) => v);
      expect(exact.get('memusage_build_info{version="0.1.0",engine="pagemap"}')).toBe(1);
      expect(sums.get('memusage_build_info{version="0.1.0",engine="smaps_rollup"}')).toBe(1);
      const rollups = hog.pids.map(readRollupKb);
      const [exactRss] = series(exact, 'memusage_group_rss_bytes');
      const [sumRss] = series(sums, 'memusage_group_rss_bytes');
      // Exact: the region once. Sums: the kernel's Rss of each member added up, the region four times.
      expect(exactRss).toBeGreaterThanOrEqual(16 * MiB);
      expect(exactRss).toBeLessThan(16 * MiB + 4 * MiB);
      expect(sumRss).toBe(rollups.reduce((s, r) => s + r.Rss! * KiB, 0));
      // PSS is right either way (within a KiB per member: smaps_rollup rounds each to a KiB).
      const [exactPss] = series(exact, 'memusage_group_pss_bytes');
      const [sumPss] = series(sums, 'memusage_group_pss_bytes');
      expect(Math.abs(exactPss! - sumPss!)).toBeLessThanOrEqual(4 * KiB);
      // Without frames the machine's distinct RSS and USS cannot be known: no such series.
      expect(series(sums, 'memusage_machine_rss_bytes')).toEqual([]);
      expect(exact.has('memusage_machine_rss_bytes')).toBe(true);
    },
  );

  memhogTest(
    '--by unit: the deepest .service/.scope of the cgroup path, in export and in top',
    async ({ memhog }) => {
      const hog = await memhog(['anon', '1']);
      const unit = unitOf(hog.pid);
      const values = exportUnder('-all,+sys_admin,+sys_ptrace,+dac_read_search', [
        '--pid',
        String(hog.pid),
        '--by',
        'unit',
      ]);
      expect(values.get(`memusage_group_processes{group="${unit}"}`)).toBe(1);
      const top = runCli(['top', '--once', '--by', 'unit', '--json', '-p', String(hog.pid)]);
      const doc = JSON.parse(top.stdout) as {
        by: string;
        groups: { key: string; rss: number; uss: number }[];
      };
      expect(doc.by).toBe('unit');
      expect(doc.groups.map((g) => g.key)).toEqual([unit]);
      expect(doc.groups[0]!.uss).toBe(values.get(`memusage_group_uss_bytes{group="${unit}"}`));
    },
  );
});
