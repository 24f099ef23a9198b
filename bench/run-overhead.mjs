#!/usr/bin/env node
/**
 * CPU cost of `memusage run`-style sampling: a 1 GiB memhog sampled every 100 ms for ~6 s through the
 * library's measure(). Prints memusage's CPU use as a share of one core (target: under 5%).
 * Needs root (exact snapshots read pagemap PFNs and /proc/kpagecount) and a built dist/ (npm run build).
 * Usage: node bench/run-overhead.mjs [--seconds N] [--mib N]   (N seconds of steady state after a first second)
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg('--seconds', 6);
const mib = arg('--mib', 1024);

const memhog = () => {
  const source = join(root, 'test/helpers/memhog.c');
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16);
  const dir = join(root, 'node_modules/.cache/memusage-bench');
  const bin = join(dir, `memhog-${hash}-overhead`);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    execFileSync('cc', ['-O2', '-Wall', '-o', bin, source]);
  }
  return bin;
};

const { measure } = await import(join(root, 'dist/index.js'));
const hog = spawn(memhog(), ['anon', String(mib)], { stdio: ['pipe', 'pipe', 'inherit'] });
await new Promise((resolve, reject) => {
  hog.stdout.once('data', resolve);
  hog.once('exit', () => reject(new Error('memhog exited before it was ready')));
});
try {
  const cpuNow = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  // Steady state: from the end of the first second (start-up: the first walk of every process, compiling
  // the snapshot path, the first exact snapshot) to the end. The whole run is printed too.
  let steady;
  const cpuStart = cpuNow();
  const t0 = performance.now();
  setTimeout(() => {
    steady = { cpu: cpuNow(), t: performance.now() };
  }, 1000);
  const record = await measure({ pid: hog.pid, durationMs: (seconds + 1) * 1000 }, { intervalMs: 100 });
  const exactAfter = record.samples.filter((s) => s.snapshotCpuMs !== null && s.t > 1000).length;
  const t1 = performance.now();
  const cpu1 = cpuNow();
  const wall = t1 - steady.t;
  const cpuMs = cpu1 - steady.cpu;
  const wholePercent = (100 * (cpu1 - cpuStart)) / (t1 - t0);
  const exact = record.samples.filter((s) => s.snapshotCpuMs !== null);
  const snapshotMs = exact.reduce((sum, s) => sum + s.snapshotCpuMs, 0);
  const percent = (100 * cpuMs) / wall;
  console.log(
    `run-overhead: ${mib} MiB process, ${record.samples.length} samples at 10 Hz over ${(wall / 1000).toFixed(1)} s: ` +
      `memusage used ${cpuMs.toFixed(0)} ms CPU = ${percent.toFixed(2)}% of one core ` +
      `in steady state; ${wholePercent.toFixed(2)}% including the first second ` +
      `(${exact.length} exact tree snapshots, ${exactAfter} after the first second, ` +
      `${(snapshotMs / exact.length || 0).toFixed(0)} ms CPU each; ` +
      `peak tree PSS ${(record.summary.pss.peak?.value / 2 ** 20).toFixed(1)} MiB) — target < 5%: ${percent < 5 ? 'ok' : 'OVER'}`,
  );
  process.exitCode = percent < 5 ? 0 : 1;
} finally {
  hog.kill('SIGKILL');
}
