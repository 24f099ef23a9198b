/** Builds test/helpers/treehog.c (short-lived process trees that report their own VmHWM) and reads its reports. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_CACHE_DIR } from './memhog.js';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'treehog.c');

/** Compiled once per source version; static where libc.a exists (no shared libc pages to move its RSS). */
export const treehogPath = (): string => {
  const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 16);
  mkdirSync(TEST_CACHE_DIR, { recursive: true });
  const path = join(TEST_CACHE_DIR, `treehog-${hash}`);
  if (existsSync(path)) return path;
  const tmp = `${path}.${process.pid}.tmp`;
  for (const flags of [['-O2', '-static'], ['-O2']]) {
    try {
      execFileSync('cc', [...flags, '-Wall', '-o', tmp, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
      renameSync(tmp, path);
      return path;
    } catch {
      rmSync(tmp, { force: true });
    }
  }
  throw new Error(`cannot compile ${SOURCE}`);
};

/** One process's own report: its VmHWM read just before it exited, and what it touched. Bytes. */
export interface TreehogReport {
  pid: number;
  hwm: number;
  touched: number;
}

export const readReports = (file: string): TreehogReport[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const [pid, hwmKb, touched] = line.split(' ').map(Number);
      return { pid: pid!, hwm: hwmKb! * 1024, touched: touched! };
    });
