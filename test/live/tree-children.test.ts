/**
 * The tree walk on the real procfs: status files held open across walks, children found through
 * /proc/PID/task/TID/children, and a full walk by parent PID between; compared with the kernel's ppid links.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseMemberStatus } from '../../src/parse/status.js';
import { StatusReader } from '../../src/procfs/status-reader.js';
import { TreeWalker } from '../../src/sample/tree.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** PIDs whose PPid (from the kernel, listing all of /proc) is `pid`. */
const kernelChildren = (pid: number): number[] =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);

describe('StatusReader on /proc', () => {
  it('reads the same fields as a fresh read, through a held file, and fails once the process is gone', async () => {
    const child = spawn('sleep', ['30']);
    children.push(child);
    const pid = child.pid!;
    await sleep(100);
    const reader = new StatusReader('/proc');
    const first = reader.read(pid)!;
    expect(first.throughHeld).toBe(false);
    const second = reader.read(pid)!;
    expect(second.throughHeld).toBe(true);
    const kernel = parseMemberStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
    expect(second.status.name).toBe('sleep');
    expect(second.status.ppid).toBe(process.pid);
    expect(second.status.rss).toBeGreaterThan(0);
    expect(second.status.hwm).toBe(kernel.hwm);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(reader.read(pid)).toBeUndefined();
    reader.close();
  });
});

describe('TreeWalker by children files', () => {
  it('finds a shell, its children and its grandchild on every walk, and drops one killed meanwhile', async () => {
    // sh → sleep, sleep, and sh → sh → sleep (a grandchild).
    const root = spawn('sh', ['-c', 'sleep 30 & sleep 30 & sh -c "sleep 30 & wait" & wait']);
    children.push(root);
    await sleep(300);
    const pid = root.pid!;
    const direct = kernelChildren(pid);
    expect(direct).toHaveLength(3);
    const inner = direct.find((c) => readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'sh')!;
    const expected = new Set([pid, ...direct, ...kernelChildren(inner)]);
    expect(expected.size).toBe(5);
    const walker = new TreeWalker('/proc', pid);
    // Walk 0 goes by parent PID, the others by children files.
    for (let i = 0; i < 12; i++) expect(new Set(walker.walk().map((m) => m.pid))).toEqual(expected);
    const victim = direct.find((c) => c !== inner)!;
    process.kill(victim, 'SIGKILL');
    await sleep(200);
    expected.delete(victim);
    for (let i = 0; i < 3; i++) expect(new Set(walker.walk().map((m) => m.pid))).toEqual(expected);
    walker.close();
  });
});
