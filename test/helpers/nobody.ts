/** Run the CLI as nobody (uid/gid 65534, no groups) through setpriv, from a copy nobody can read if needed. */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './cli.js';
import { REPO_ROOT } from './memhog.js';

export const NOBODY = 65534;
export const AS_NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

export const runAsNobody = (bin: string, args: string[]) => {
  const r = spawnSync('setpriv', [...AS_NOBODY, process.execPath, bin, ...args], {
    encoding: 'utf8',
    cwd: '/',
    env: { ...process.env, NO_COLOR: '1', COLUMNS: '200' },
    timeout: 30_000,
  });
  if (r.error) throw r.error;
  return { exitCode: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** Whether nobody can load the CLI from `bin` (every directory on the way must be searchable). */
const loadsAsNobody = (bin: string): boolean =>
  spawnSync('setpriv', [...AS_NOBODY, process.execPath, bin, '--version'], { cwd: '/' }).status === 0;

let copy: string | undefined;

/**
 * The repository's bin when nobody may read it; else a world-readable copy of what the CLI loads (bin,
 * dist, package.json, the native addon, commander), in a fresh temporary directory.
 */
export const nobodyBin = (): string => {
  if (loadsAsNobody(BIN)) return BIN;
  if (copy) return join(copy, 'bin', 'memusage');
  copy = mkdtempSync(join(tmpdir(), 'memusage-nobody-'));
  execFileSync('chmod', ['755', copy]);
  // Copies, not links: the checkout may sit below a directory nobody cannot enter (/root/...). The CLI
  // needs only commander at start-up (execa is loaded by `run` alone).
  for (const part of [
    'bin',
    'dist',
    'package.json',
    'build/Release',
    'node_modules/commander',
    'node_modules/@commander-js/extra-typings',
  ])
    cpSync(join(REPO_ROOT, part), join(copy, part), { recursive: true });
  execFileSync('chmod', ['-R', 'a+rX', copy]);
  const bin = join(copy, 'bin', 'memusage');
  if (!loadsAsNobody(bin))
    throw new Error(`nobody cannot run ${bin} (is ${REPO_ROOT}/node_modules readable?)`);
  return bin;
};

export const removeNobodyCopy = (): void => {
  if (copy) rmSync(copy, { recursive: true, force: true });
  copy = undefined;
};
