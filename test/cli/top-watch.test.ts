/** `top --watch` through the real bin/memusage into a pipe: each table under a line with its time. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';

/** Runs `memusage ARGS` for `ms`, then SIGINT; resolves with stdout and the exit status. */
const runFor = (args: string[], ms: number, env: Record<string, string>) =>
  new Promise<{ stdout: string; code: number | null; started: number; ended: number }>((resolve, reject) => {
    const started = Date.now();
    const child = spawn(BIN, args, {
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGINT'), ms);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, code, started, ended: Date.now() });
    });
  });

const STAMP = /^--- (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) ([+-])(\d\d)(\d\d) ---$/;

describe('top --watch', () => {
  it('a time line (local time and UTC offset) above every table, tables apart by a blank line', async () => {
    // A zone that is not UTC and not a whole hour off it: the offset must be the zone's, not guessed.
    const r = await runFor(['top', '--watch', '0.3', '--pid', String(process.pid)], 2000, {
      TZ: 'Asia/Kolkata',
    });
    expect(r.code).toBe(0);
    const lines = r.stdout.replace(/\n$/, '').split('\n');
    const stamps = lines.flatMap((l, i) => (STAMP.test(l) ? [i] : []));
    expect(stamps.length).toBeGreaterThanOrEqual(2);
    expect(stamps[0]).toBe(0);
    for (const [n, i] of stamps.entries()) {
      const [, date, time, sign, hh, mm] = STAMP.exec(lines[i]!)!;
      expect(`${sign}${hh}${mm}`).toBe('+0530');
      const at = Date.parse(`${date}T${time}+05:30`);
      // Whole seconds: the stamp may be up to a second before the process started by rounding down.
      expect(at).toBeGreaterThanOrEqual(Math.floor(r.started / 1000) * 1000);
      expect(at).toBeLessThanOrEqual(r.ended);
      expect(lines[i + 1]).toMatch(/^\s*PID\s+USER\s+SWAP\s+USS\s+PSS\s+RSS\s+COMMAND/);
      expect(lines.slice(i + 2, i + 4).some((l) => new RegExp(`^\\s*${process.pid}\\s`).test(l))).toBe(true);
      if (n > 0) expect(lines[i - 1]).toBe('');
    }
  });

  it('--json: documents only, no time lines', async () => {
    const r = await runFor(['top', '--watch', '0.3', '--json', '--pid', String(process.pid)], 1200, {});
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/^---/m);
    const docs = r.stdout.trim().split(/\n\n(?=\{)/);
    expect(docs.length).toBeGreaterThanOrEqual(2);
    for (const doc of docs) expect(JSON.parse(doc)).toHaveProperty('takenAt');
  });
});
