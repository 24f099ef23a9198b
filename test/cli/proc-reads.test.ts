/**
 * Each /proc file of a process is read once per snapshot: the real bin/memusage under strace (openat only),
 * its opens attributed to the process whose /proc directory they go through. `top --by` once read every
 * header file in its ordering pass and again when measuring; explicit PIDs once had their status read
 * again to find their thread group.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { otherThread } from '../helpers/kernel.js';

const children: ChildProcess[] = [];
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memusage-reads-'));
  for (let i = 0; i < 3; i++) children.push(spawn('sleep', [`${700 + i}`], { stdio: 'ignore' }));
  await new Promise((resolve) => setTimeout(resolve, 200));
});
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Opens per PID and file name of one run: openat(AT_FDCWD, "/proc/PID", O_DIRECTORY) gives the fd of a
 * process's directory; its files are opened relative to it (the addon) or as /proc/self/fd/N/NAME (the
 * TypeScript path), or by path as /proc/PID/NAME.
 */
const opensOf = (args: readonly string[], env: Record<string, string>): Map<number, Map<string, number>> => {
  const log = join(dir, `trace-${Math.random().toString(36).slice(2)}`);
  const r = spawnSync(
    'strace',
    ['-f', '-qq', '--seccomp-bpf', '-e', 'trace=openat', '-o', log, BIN, ...args],
    { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 120_000 },
  );
  if (r.error) throw r.error;
  expect([0, 3], r.stderr).toContain(r.status);
  const dirOf = new Map<number, number>();
  // A call interrupted by another thread's line resumes later: its arguments are on the first line.
  const pending = new Map<string, string>();
  const opens = new Map<number, Map<string, number>>();
  const count = (pid: number | undefined, name: string) => {
    if (pid === undefined) return;
    const files = opens.get(pid) ?? new Map<string, number>();
    files.set(name, (files.get(name) ?? 0) + 1);
    opens.set(pid, files);
  };
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const [tid, ...rest] = line.split(' ');
    let text = rest.join(' ').trim();
    if (text.endsWith('<unfinished ...>')) {
      pending.set(tid!, text.replace('<unfinished ...>', ''));
      continue;
    }
    const resumed = /^<\.\.\. openat resumed>(.*)$/.exec(text);
    if (resumed) text = `${pending.get(tid!) ?? ''}${resumed[1]}`;
    const call = /^openat\((AT_FDCWD|\d+), "([^"]*)".*\)\s+=\s+(-?\d+)/.exec(text);
    if (!call) continue;
    const [, at, path, result] = call;
    if (Number(result) < 0) continue;
    const pidDir = /^\/proc\/(\d+)$/.exec(path!);
    if (at === 'AT_FDCWD' && pidDir) {
      dirOf.set(Number(result), Number(pidDir[1]));
      continue;
    }
    if (at !== 'AT_FDCWD') count(dirOf.get(Number(at)), path!);
    const viaFd = /^\/proc\/self\/fd\/(\d+)\/([^/]+)$/.exec(path!);
    if (viaFd) count(dirOf.get(Number(viaFd[1])), viaFd[2]!);
    const byPath = /^\/proc\/(\d+)\/([^/]+)$/.exec(path!);
    if (byPath) count(Number(byPath[1]), byPath[2]!);
  }
  return opens;
};

/** Every file opened for `pid`, each once; stat, status and cmdline among them. */
const expectEachOnce = (opens: Map<number, Map<string, number>>, pid: number) => {
  const files = Object.fromEntries(opens.get(pid) ?? []);
  for (const name of ['stat', 'status', 'cmdline']) expect(files, `PID ${pid}`).toHaveProperty(name);
  for (const [name, n] of Object.entries(files)) expect(n, `PID ${pid}: ${name}`).toBe(1);
};

describe.each([
  ['native', {}],
  ['MEMUSAGE_NO_NATIVE=1', { MEMUSAGE_NO_NATIVE: '1' }],
])('each /proc file once per snapshot (%s)', (_name, env) => {
  const pids = () => children.map((c) => c.pid!);

  it('top --once -p', () => {
    const opens = opensOf(['top', '--once', '-p', pids().join(',')], env);
    for (const pid of pids()) expectEachOnce(opens, pid);
  });

  it('top --once --by: the ordering pass and the measuring pass share the files', () => {
    for (const args of [
      ['top', '--once', '--by', 'command', '-p', pids().join(',')],
      ['top', '--once', '--by', 'user', '--all'],
    ]) {
      const opens = opensOf(args, env);
      for (const pid of pids()) expectEachOnce(opens, pid);
    }
  }, 120_000);

  it('pid with a thread ID: the thread read once, its process measured once', () => {
    const tid = otherThread();
    const opens = opensOf(['pid', String(tid), String(pids()[0])], env);
    expectEachOnce(opens, process.pid);
    expectEachOnce(opens, pids()[0]!);
    // The thread's own directory: its header files once (its pagemap is opened with them, as every
    // process's is before its maps are read, and closed unread).
    for (const [name, n] of opens.get(tid) ?? []) expect(n, `thread ${tid}: ${name}`).toBe(1);
    expect(opens.get(tid)?.get('status')).toBe(1);
  });
});
