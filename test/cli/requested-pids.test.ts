/**
 * PIDs as users type them: a PID given twice, and a thread's ID (its /proc/TID exists though /proc does not
 * list it). Each process is measured once; a thread ID measures its process, and says so.
 */
import { describe, expect, it } from 'vitest';
import { runCli, stderrLines } from '../helpers/cli.js';
import { otherThread } from '../helpers/kernel.js';
import { memhogTest } from '../helpers/memhog.js';

interface Doc {
  processes: { pid: number; rss: number; pss: number }[];
  notes: string[];
  totals?: { processes: number; pss: number; rss: number | null };
}

describe('PIDs given twice, and thread IDs', () => {
  memhogTest('top -p P,P: one row, and TOTAL counts the process once', async ({ memhog }) => {
    const hog = await memhog(['anon', '8']);
    const r = runCli(['top', '--json', '-p', `${hog.pid},${hog.pid}`, '-p', String(hog.pid)]);
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.processes.map((p) => p.pid)).toEqual([hog.pid]);
    expect(doc.totals!.processes).toBe(1);
    expect(doc.totals!.pss).toBe(doc.processes[0]!.pss);

    const table = runCli(['top', '--once', '--bytes', '-c', 'pid,pss', '-p', `${hog.pid},${hog.pid}`]);
    const lines = table.stdout.split('\n').filter((l) => /^\s*(\d+|TOTAL)\s/.test(l));
    expect(lines).toHaveLength(2);
    const [row, total] = lines.map((l) => Number(l.trim().split(/\s+/)[1]));
    // 8 MiB written, not 16.
    expect(row).toBeGreaterThanOrEqual(8 * 2 ** 20);
    expect(total).toBe(row);
  });

  memhogTest('pid P P --rss: one line per argument, the process measured once', async ({ memhog }) => {
    const hog = await memhog(['anon', '8']);
    const r = runCli(['pid', String(hog.pid), String(hog.pid), '--rss', '-q']);
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(lines[0]);
    const json = JSON.parse(runCli(['pid', String(hog.pid), String(hog.pid), '--json']).stdout) as Doc;
    expect(json.processes.map((p) => p.pid)).toEqual([hog.pid]);
  });

  it('a thread ID measures its process once, for pid and for top -p, and says so on stderr', () => {
    const tid = otherThread();
    const note = `memusage: note: ${tid} is a thread of process ${process.pid}: measured process ${process.pid}`;

    const pid = runCli(['pid', String(tid), String(process.pid), '--json']);
    expect(pid.exitCode, pid.stderr).toBe(0);
    expect((JSON.parse(pid.stdout) as Doc).processes.map((p) => p.pid)).toEqual([process.pid]);
    expect(stderrLines(pid)).toContain(note);

    const bare = runCli(['pid', String(tid), '--rss', '-q']);
    expect(bare.exitCode, bare.stderr).toBe(0);
    expect(bare.stdout).toMatch(/^\d+\n$/);
    expect(bare.stderr).toBe('');

    const top = runCli(['top', '--json', '-p', `${tid},${process.pid}`]);
    expect(top.exitCode, top.stderr).toBe(0);
    const doc = JSON.parse(top.stdout) as Doc;
    expect(doc.processes.map((p) => p.pid)).toEqual([process.pid]);
    expect(doc.totals!.processes).toBe(1);
    expect(stderrLines(top)).toContain(note);
  });
});
