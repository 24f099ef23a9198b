/**
 * `memusage serve` scraped by a real Prometheus (Debian's 2.42, every second, its own port and data
 * directory), checked through Prometheus' HTTP API against the kernel: a helper group of 9 processes that
 * share a 64 MiB MAP_SHARED region, and 30 single-process groups folded by --max-groups 5. Only the test's
 * processes are measured (hidden --pid): other work on the machine must neither slow nor move the figures.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashSync } from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { eventually, startPrometheus, startServe, tempDir } from '../helpers/exporters.js';
import { readRollupKb, ussKb } from '../helpers/kernel.js';
import { memhogTest } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const LEN = 64 * MiB;

const groupName = (pid: number): string => {
  // The helper's program name: memhog runs as a private copy, so each run is a group of its own.
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  return cmdline.split('\0')[0]!.replace(/^.*\//, '');
};

describe.skipIf(!requireRoot())('serve scraped by Prometheus (live, root)', () => {
  it('over TLS with basic auth: Prometheus with the credentials scrapes, without them it is refused', async () => {
    const tmp = tempDir('prometheus-tls');
    try {
      const cert = join(tmp.dir, 'cert.pem');
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1']
          .concat(['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'])
          .concat(['-keyout', join(tmp.dir, 'key.pem'), '-out', cert]),
        { stdio: 'ignore' },
      );
      const web = join(tmp.dir, 'web.yml');
      writeFileSync(
        web,
        `tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  prometheus: ${hashSync('s3cret', 10)}\n`,
      );
      const serve = await startServe(['--web.config.file', web, '--pid', String(process.pid)]);
      const target = new URL(serve.url).host;
      // Two jobs on the same target: one with the password, one without. (Prometheus applies new targets
      // after up to 5 s: most of this test's time.)
      const prom = await startPrometheus(tmp.dir, {
        targets: [target],
        scheme: 'https',
        extra: `    tls_config: { ca_file: ${cert} }
    basic_auth: { username: prometheus, password: s3cret }
  - job_name: anonymous
    scheme: https
    tls_config: { ca_file: ${cert} }
    static_configs:
      - targets: ['${target}']
`,
      });
      try {
        const up = async () =>
          Object.fromEntries((await prom.query('up')).map((s) => [s.metric.job, s.value]));
        expect(
          await eventually(up, (u) => u.memusage !== undefined && u.anonymous !== undefined, 'scraped'),
        ).toEqual({
          memusage: 1,
          anonymous: 0,
        });
        const targets = (await (await fetch(`${prom.base}/api/v1/targets`)).json()) as {
          data: { activeTargets: { labels: { job: string }; lastError: string }[] };
        };
        const anonymous = targets.data.activeTargets.find((t) => t.labels.job === 'anonymous');
        expect(anonymous?.lastError).toMatch(/401 Unauthorized/);
        const [build] = await prom.query('memusage_build_info');
        expect(build?.metric.job).toBe('memusage');
      } finally {
        await prom.stop();
        await serve.stop();
      }
    } finally {
      tmp.remove();
    }
  });

  memhogTest(
    "group PSS is the members' smaps_rollup Pss, USS holds the shared region, --max-groups keeps PSS whole",
    async ({ memhog }) => {
      const shared = await memhog(['shared', '64', '8']);
      const singles = await Promise.all(Array.from({ length: 30 }, () => memhog(['anon', '1'])));
      const pids = [...shared.pids, ...singles.map((s) => s.pid)];
      const serve = await startServe(['--max-groups', '5', '--pid', pids.join(',')]);
      const tmp = tempDir('prometheus');
      const target = new URL(serve.url).host;
      const prom = await startPrometheus(tmp.dir, { targets: [target] });
      try {
        const group = groupName(shared.pid);
        await eventually(
          () => prom.query('up{job="memusage"}'),
          (r) => r[0]?.value === 1,
          'target up',
        );
        const pss = await eventually(
          () => prom.query(`memusage_group_pss_bytes{group="${group}"}`),
          (r) => r.length === 1,
          'helper group scraped',
        );
        // The kernel's view, read now (the helpers are still: their memory does not move).
        const rollups = shared.pids.map((pid) => readRollupKb(pid));
        const kernelPss = rollups.reduce((s, r) => s + r.Pss! * KiB, 0);
        // smaps_rollup floors each process's Pss to a kB: at most 1 KiB per member apart.
        expect(Math.abs(pss[0]!.value - kernelPss)).toBeLessThanOrEqual(shared.pids.length * KiB);
        const [uss] = await prom.query(`memusage_group_uss_bytes{group="${group}"}`);
        const ussSum = rollups.reduce((s, r) => s + ussKb(r) * KiB, 0);
        // No member's own USS holds the region (each maps it shared); the group's holds it once.
        expect(ussSum).toBeLessThan(LEN / 4);
        expect(uss!.value).toBeGreaterThanOrEqual(LEN + ussSum);
        expect(uss!.value).toBeLessThan(LEN + ussSum + shared.pids.length * MiB);
        const [rss] = await prom.query(`memusage_group_rss_bytes{group="${group}"}`);
        const rssSum = rollups.reduce((s, r) => s + r.Rss! * KiB, 0);
        expect(rss!.value).toBeLessThan(rssSum - 7 * LEN);

        // 31 groups, --max-groups 5: five largest plus "other", and PSS still sums to the machine's.
        for (const metric of ['pss', 'uss', 'rss', 'swap'])
          expect((await prom.query(`memusage_group_${metric}_bytes`)).length).toBe(6);
        const [other] = await prom.query('memusage_group_processes{group="other"}');
        expect(other!.value).toBe(26);
        const [sum] = await prom.query('sum(memusage_group_pss_bytes) - scalar(memusage_machine_pss_bytes)');
        expect(Math.abs(sum!.value)).toBeLessThan(1);
        const [machine] = await prom.query('memusage_machine_processes');
        expect(machine!.value).toBe(pids.length);

        // The same figures as `top --once --by command --json` for the same processes.
        const top = JSON.parse(
          runCli(['top', '--once', '--by', 'command', '--json', '-p', pids.join(',')]).stdout,
        ) as {
          groups: { key: string; pss: number; uss: number; rss: number }[];
        };
        const fromTop = top.groups.find((g) => g.key === group)!;
        // RSS and USS exactly; PSS within a page: pages every process maps (the vDSO's) change their map
        // count whenever any process on the machine starts or exits, between the two snapshots.
        expect([fromTop.uss, fromTop.rss]).toEqual([uss!.value, rss!.value]);
        expect(Math.abs(fromTop.pss - pss[0]!.value)).toBeLessThan(4 * KiB);

        // OpenMetrics was negotiated: only its # UNIT line gives Prometheus a metric's unit.
        const meta = (await (
          await fetch(`${prom.base}/api/v1/metadata?metric=memusage_group_pss_bytes`)
        ).json()) as {
          data: Record<string, { type: string; unit: string }[]>;
        };
        expect(meta.data.memusage_group_pss_bytes?.[0]).toMatchObject({ type: 'gauge', unit: 'bytes' });

        // Every scrape builds fresh series: the group is gone once its processes are.
        await shared.stop();
        await eventually(
          () => prom.query(`memusage_group_pss_bytes{group="${group}"}`),
          (r) => r.length === 0,
          'helper group gone',
        );
      } finally {
        await prom.stop();
        await serve.stop();
        tmp.remove();
      }
    },
    60_000,
  );
});
