/**
 * Builds and drives test/helpers/memhog.c: processes whose memory layout is known exactly.
 */
import {
  type ChildProcess,
  type ChildProcessWithoutNullStreams,
  execFileSync,
  spawn,
} from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'vitest';

const HERE = dirname(fileURLToPath(import.meta.url));
const SOURCE = join(HERE, 'memhog.c');
export const REPO_ROOT = join(HERE, '..', '..');
/** Scratch space for test binaries and data files: on the repository's disk, never tmpfs. */
export const TEST_CACHE_DIR = join(REPO_ROOT, 'node_modules', '.cache', 'memusage-test');

export interface Memhog {
  /** Parent first, then its forked children in creation order. */
  pids: number[];
  pid: number;
  /** What the scenario's region adds to every pid (bytes); `byPid` holds per-pid overrides. */
  expect: Record<string, unknown>;
  byPid: Record<string, Record<string, unknown>>;
  addr?: string;
  scenario: string;
  stop(): Promise<void>;
}

let cachedPath: string | undefined;
let cachedStatic = false;

/**
 * Compiles memhog.c once per source version and returns the binary. Static when libc.a exists: a static
 * binary maps no shared libc pages, so its PSS does not move when unrelated processes start or exit.
 * Parallel vitest workers may race here; each compiles to a private name and renames atomically.
 */
export function memhogPath(): string {
  if (cachedPath !== undefined) return cachedPath;
  const source = readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  mkdirSync(TEST_CACHE_DIR, { recursive: true });
  for (const kind of ['static', 'dynamic'] as const) {
    const path = join(TEST_CACHE_DIR, `memhog-${hash}-${kind}`);
    if (existsSync(path)) {
      cachedPath = path;
      cachedStatic = kind === 'static';
      return path;
    }
  }
  const errors: string[] = [];
  for (const kind of ['static', 'dynamic'] as const) {
    const path = join(TEST_CACHE_DIR, `memhog-${hash}-${kind}`);
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    const flags = kind === 'static' ? ['-O2', '-static'] : ['-O2'];
    try {
      execFileSync('cc', [...flags, '-Wall', '-o', tmp, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
      renameSync(tmp, path);
      cachedPath = path;
      cachedStatic = kind === 'static';
      return path;
    } catch (err) {
      rmSync(tmp, { force: true });
      errors.push(`${kind}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`cannot compile ${SOURCE}:\n${errors.join('\n')}`);
}

/** Whether memhogPath() produced a static binary. */
export function memhogIsStatic(): boolean {
  memhogPath();
  return cachedStatic;
}

const READY_TIMEOUT_MS = 10_000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseReady(line: string): Omit<Memhog, 'stop'> {
  const raw: unknown = JSON.parse(line);
  if (!isRecord(raw)) throw new Error(`memhog: not a JSON object: ${line}`);
  const { pids, expect, byPid, addr, scenario } = raw;
  if (!Array.isArray(pids) || pids.length === 0 || !pids.every((p) => Number.isInteger(p) && p > 0)) {
    throw new Error(`memhog: bad pids in ${line}`);
  }
  if (!isRecord(expect) || !isRecord(byPid) || typeof scenario !== 'string') {
    throw new Error(`memhog: bad expect/byPid/scenario in ${line}`);
  }
  const overrides: Record<string, Record<string, unknown>> = {};
  for (const [pid, value] of Object.entries(byPid)) {
    if (!isRecord(value)) throw new Error(`memhog: bad byPid entry in ${line}`);
    overrides[pid] = value;
  }
  const pidList = pids as number[];
  return {
    pids: pidList,
    pid: pidList[0] as number,
    expect,
    byPid: overrides,
    scenario,
    ...(typeof addr === 'string' ? { addr } : {}),
  };
}

/** True once /proc/PID is gone or a zombie/dead (its memory is released). */
export function isGoneOrZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

let runSeq = 0;

/**
 * A private copy of the binary for one memhog run, unlinked once exec'd. Why: every process running the
 * same file shares its ~0.8 MiB of page cache text, so one memhog's PSS and USS would move whenever a
 * memhog of another test or worker starts or exits (seen: readings never stable, and a Pss_File that
 * changed and changed back while measuring). With a copy, only its own forked children share it.
 */
function privateCopy(): string {
  const copy = join(TEST_CACHE_DIR, `run-${process.pid}-${++runSeq}`);
  copyFileSync(memhogPath(), copy);
  chmodSync(copy, 0o755);
  return copy;
}

/**
 * Starts `memhog ARGS...` in its own process group and resolves once it printed its JSON line (the
 * memory is then built and quiescent). It exits when stdin closes, so a crashed test runner leaves no
 * memhog behind.
 */
export async function startMemhog(args: string[]): Promise<Memhog> {
  const binary = privateCopy();
  let child: ChildProcessWithoutNullStreams;
  try {
    // spawn() returns after the exec, so the file can go at once.
    child = spawn(binary, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  } finally {
    rmSync(binary, { force: true });
  }
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const what = `memhog ${args.map((a) => JSON.stringify(a)).join(' ')}`;

  const kill = () => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // group already gone
    }
  };

  let ready: Omit<Memhog, 'stop'>;
  try {
    ready = await new Promise<Omit<Memhog, 'stop'>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${what}: no JSON line within ${READY_TIMEOUT_MS} ms; stderr: ${stderr}`)),
        READY_TIMEOUT_MS,
      );
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      child.once('error', (err) => fail(new Error(`${what}: ${err.message}`)));
      child.once('exit', (code, signal) => {
        // Let stderr drain before reporting it.
        setImmediate(() =>
          fail(new Error(`${what} exited (${signal ?? code}) before ready; stderr: ${stderr}`)),
        );
      });
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
        const nl = stdout.indexOf('\n');
        if (nl < 0) return;
        clearTimeout(timer);
        try {
          resolve(parseReady(stdout.slice(0, nl)));
        } catch (err) {
          reject(err);
        }
      });
    });
  } catch (err) {
    kill();
    await waitExit(child);
    throw err;
  }
  child.removeAllListeners('exit');

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      kill();
      child.stdin.destroy();
      await waitExit(child);
      // Children are reparented once memhog dies; wait until each is gone or a zombie (memory freed).
      const deadline = Date.now() + 5_000;
      for (const pid of ready.pids.slice(1)) {
        while (!isGoneOrZombie(pid)) {
          if (Date.now() > deadline) throw new Error(`${what}: child ${pid} still alive after stop()`);
          await sleep(5);
        }
      }
    })();
    return stopped;
  };
  return { ...ready, stop };
}

/** `expect` of the scenario merged with the overrides for one pid; only numeric fields. */
export function expectFor(hog: Memhog, pid: number): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const [key, value] of Object.entries({ ...hog.expect, ...(hog.byPid[String(pid)] ?? {}) })) {
    if (typeof value === 'number') merged[key] = value;
  }
  return merged;
}

/** Vitest fixture: `memhog(args)` starts a memhog that is stopped when the test ends, pass or fail. */
export const memhogTest = test.extend<{ memhog: (args: string[]) => Promise<Memhog> }>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest requires a destructuring pattern here
  memhog: async ({}, use) => {
    const started: Memhog[] = [];
    await use(async (args) => {
      const hog = await startMemhog(args);
      started.push(hog);
      return hog;
    });
    await Promise.all(started.map((hog) => hog.stop()));
  },
});
