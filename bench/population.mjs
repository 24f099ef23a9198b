/**
 * The benchmark's own population of processes with known memory, built from test/helpers/memhog.c, and
 * torn down by PID. Every memhog runs in its own process group (its pid), so SIGKILL to the group takes
 * its forked children too; each listed pid is also killed on its own in case one left the group.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** On the repository's disk, never tmpfs: the file readers must map page cache, not shmem. */
export const BENCH_CACHE_DIR = join(REPO_ROOT, 'node_modules', '.cache', 'memusage-bench');
const READY_TIMEOUT_MS = 20_000;
const MIB = 1024 * 1024;

/**
 * The scenarios: [count, args]. 20×10 + 10×6 + 20 + 10 + 5 + 5 + 2 = 302 memhog processes and about
 * 1.0 GiB of RAM (shared 320 MiB, cow 160 MiB, anon 160 MiB, file 16 MiB of page cache, THP 40 MiB).
 * `FILE` is replaced by the data file's path.
 */
export const SCENARIOS = [
  [20, ['shared', '16', '9']], // a MAP_SHARED region mapped by a parent and 9 children
  [10, ['cow', '16', '5']], // private anon inherited copy-on-write by 5 children
  [20, ['anon', '8']],
  [10, ['file', 'FILE', '16']], // all map the same 16 MiB file: page cache shared by 10 processes
  [5, ['thp', '8']],
  [5, ['zero', '16']], // reads of never-written anon memory: the zero page
  [2, ['sparse', '1024', '64']], // 1 TiB reservation with 64 touched pages
];

/**
 * Compile test/helpers/NAME.c once per source version with the flags the tests use (static when libc.a
 * exists), into the bench cache; returns the binary's path.
 */
export const buildHelper = (name) => {
  const sourcePath = join(REPO_ROOT, 'test', 'helpers', `${name}.c`);
  const source = readFileSync(sourcePath);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  mkdirSync(BENCH_CACHE_DIR, { recursive: true });
  const errors = [];
  for (const flags of [['-O2', '-static'], ['-O2']]) {
    const path = join(BENCH_CACHE_DIR, `${name}-${hash}${flags.length === 2 ? '-static' : ''}`);
    if (existsSync(path)) return path;
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      execFileSync('cc', [...flags, '-Wall', '-o', tmp, sourcePath], { stdio: ['ignore', 'ignore', 'pipe'] });
      renameSync(tmp, path);
      return path;
    } catch (error) {
      rmSync(tmp, { force: true });
      errors.push(error instanceof Error ? error.message : String(error));
    }
  }
  throw new Error(`cannot compile ${sourcePath}:\n${errors.join('\n')}`);
};

export const buildMemhog = () => buildHelper('memhog');

/** A data file for the file readers, written once (non-zero bytes, so no page is special). */
const dataFile = (mib) => {
  const path = join(BENCH_CACHE_DIR, `data-${mib}m`);
  if (!existsSync(path) || readFileSync(path).length !== mib * MIB) {
    const chunk = Buffer.alloc(MIB, 0x5a);
    writeFileSync(path, Buffer.concat(Array.from({ length: mib }, () => chunk)));
  }
  return path;
};

/** Resolves with the first stdout line of a detached child, or rejects on exit, error or timeout. */
export const firstLine = (child, what, timeoutMs) =>
  new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(
      () => reject(new Error(`${what}: not ready in ${timeoutMs} ms; ${stderr}`)),
      timeoutMs,
    );
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${signal ?? code}) before it was ready: ${stderr}`));
    });
    child.stdout.on('data', (d) => {
      stdout += d;
      const nl = stdout.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve(stdout.slice(0, nl));
    });
  });

/** Start one memhog; resolves with its parsed JSON line ({scenario, pids, ...}) and the child. */
const startOne = async (binary, args) => {
  const child = spawn(binary, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    return { ...JSON.parse(await firstLine(child, `memhog ${args.join(' ')}`, READY_TIMEOUT_MS)), child };
  } catch (error) {
    killGroup(child.pid);
    throw error;
  }
};

export const killGroup = (pgid) => {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
};

/**
 * Start the whole population plus one "normal" process (an idle Node, with a real program's mappings).
 * Returns { hogs, normalPid, sparsePids, pids, teardown }. Teardown is idempotent and also runs on
 * SIGINT/SIGTERM, so an interrupted benchmark leaves nothing behind.
 */
export const startPopulation = async (binary, scenarios = SCENARIOS) => {
  const file = dataFile(16);
  const hogs = [];
  const extra = [];
  let tornDown = false;
  const teardown = () => {
    if (tornDown) return;
    tornDown = true;
    for (const hog of hogs) {
      killGroup(hog.pids[0]);
      for (const pid of hog.pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    for (const child of extra) killGroup(child.pid);
  };
  const onSignal = (signal) => {
    teardown();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const starts = [];
    for (const [count, args] of scenarios) {
      const real = args.map((a) => (a === 'FILE' ? file : a));
      for (let i = 0; i < count; i++) starts.push(startOne(binary, real));
    }
    // Record every hog that started, even if another failed, so teardown can find it.
    const settled = await Promise.allSettled(starts);
    for (const s of settled) if (s.status === 'fulfilled') hogs.push(s.value);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const normal = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], {
      detached: true,
      stdio: 'ignore',
    });
    extra.push(normal);
    await waitForMaps(normal.pid);
    const sparsePids = hogs.filter((h) => h.scenario === 'sparse').map((h) => h.pids[0]);
    const pids = [...hogs.flatMap((h) => h.pids), normal.pid];
    const byScenario = {};
    for (const h of hogs) byScenario[h.scenario] = (byScenario[h.scenario] ?? 0) + h.pids.length;
    return { hogs, normalPid: normal.pid, sparsePids, pids, byScenario, teardown };
  } catch (error) {
    teardown();
    throw error;
  }
};

/** Wait until a freshly spawned Node has finished starting (its heap stops growing). */
const waitForMaps = async (pid) => {
  let last = -1;
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    const rss = m ? Number(m[1]) : 0;
    if (rss > 0 && rss === last) return;
    last = rss;
  }
};
