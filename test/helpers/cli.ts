/** Runs the real bin/memusage (built dist/) the way a user does, capturing everything. */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './memhog.js';

export const BIN = join(REPO_ROOT, 'bin', 'memusage');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Synchronous on purpose: kernel readings can then bracket the whole run (stableKernelReadings).
 * stdout is a pipe. A variable set to undefined in `env` is removed from the inherited environment.
 */
export const runCli = (args: readonly string[], env: Record<string, string | undefined> = {}): CliResult => {
  // Executed directly, as a user's shell does: its sh line is part of what is tested.
  const r = spawnSync(BIN, args, {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    timeout: 60_000,
  });
  return { exitCode: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
};

/** stderr split into lines, without the trailing empty one. */
export const stderrLines = (r: CliResult): string[] => r.stderr.split('\n').filter((l) => l !== '');

/** A PID that no process has right now: a child that already exited and was reaped. */
export const freePid = (): number => {
  const pid = Number(execFileSync('sh', ['-c', 'sh -c "echo \\$\\$"'], { encoding: 'utf8' }).trim());
  return pid;
};

/** A kernel thread's PID, found by its PF_KTHREAD task flag (PID 2 is kthreadd only outside containers). */
export const kernelThreadPid = (): number => {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const flags = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]);
      if ((flags & 0x0020_0000) !== 0) return Number(name);
    } catch {
      // Exited while listed: try the next one.
    }
  }
  throw new Error('no kernel thread visible in /proc');
};
