/**
 * openProcessDirs, native (two threads, openat) against its TypeScript twin, on live processes: the same
 * bytes per file, the same errors, fds that stay bound to the process they were opened for.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProcBatch, type NativeProcBatch } from '../../../src/native/proc-batch.js';
import { ProcError } from '../../../src/procfs/errors.js';
import { readMaps } from '../../../src/procfs/maps.js';
import { PagemapReader, SPARSE_VMA_BYTES } from '../../../src/procfs/pagemap.js';
import {
  closeProcessDir,
  dirBytes,
  dirText,
  openInDir,
  openProcessDirsJs,
  openProcessDirsNative,
  type ProcessDir,
} from '../../../src/procfs/process-dir.js';
import { kernelThreadPid } from '../../helpers/cli.js';

const requireBatch = (): NativeProcBatch => {
  const batch = loadProcBatch({});
  if (!batch) throw new Error('the native addon did not load; run: node scripts/build-native.mjs');
  return batch;
};

/** The native path whatever MEMUSAGE_NO_NATIVE says, through the same conversion openProcessDirs uses. */
const openNative = (pids: number[], files: string[], openFirst?: string, pagemapBelow = 0) =>
  openProcessDirsNative(requireBatch(), '/proc', pids, files, { openFirst, pagemapBelow });

const FILES = ['cmdline', 'maps', 'environ', 'smaps_rollup'];

/**
 * A file's bytes as text, minus what legitimately changes between the two reads: the Pss lines of
 * smaps_rollup divide each page by its current map count, and other processes of the suite map and unmap
 * libc meanwhile (a CI run failed on exactly that). Every other byte must be equal.
 */
const stableBytes = (name: string, bytes: Buffer): string => {
  const text = bytes.toString('latin1');
  return name === 'smaps_rollup' ? text.replace(/^Pss[^\n]*\n/gm, '') : text;
};
const children: ChildProcess[] = [];

beforeAll(async () => {
  // 40 sleepers, each with its own command line: more than enough for both threads to take some.
  for (let i = 0; i < 40; i++) {
    children.push(
      spawn('sleep', [`${600 + i}`], { stdio: 'ignore', env: { MEMUSAGE_TEST: `sleeper-${i}` } }),
    );
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
});
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

const dirsOrThrow = (dirs: (ProcessDir | ProcError)[]): ProcessDir[] =>
  dirs.map((d) => {
    if (d instanceof ProcError) throw d;
    return d;
  });

describe('openProcessDirs', () => {
  it('reads the same bytes as the TypeScript twin, in PID order, on both threads', async () => {
    const pids = children.map((c) => c.pid!);
    const native = dirsOrThrow(openNative(pids, FILES, 'pagemap'));
    const js = dirsOrThrow(openProcessDirsJs('/proc', pids, FILES, 'pagemap'));
    try {
      native.forEach((dir, i) => {
        expect(dir.pid).toBe(pids[i]);
        expect(dirText(dir, 'cmdline')).toBe(`sleep\0${600 + i}\0`);
        expect(dirText(dir, 'environ')).toContain(`MEMUSAGE_TEST=sleeper-${i}`);
        for (const name of FILES) {
          expect(stableBytes(name, dirBytes(dir, name)), name).toBe(
            stableBytes(name, dirBytes(js[i]!, name)),
          );
        }
        // The directory fd is usable for files that were not read with it.
        expect(dirText(dir, 'stat')).toMatch(new RegExp(`^${pids[i]} \\(sleep\\) S `));
      });
    } finally {
      for (const dir of [...native, ...js]) closeProcessDir(dir);
    }
  });

  it('never lets a number that is not a PID wrap around to another process', () => {
    const pid = children[0]!.pid!;
    const odd = [2 ** 32 + pid, pid + 0.5, -pid, 0, Number.NaN];
    for (const dirs of [
      openNative([...odd, pid], ['cmdline']),
      openProcessDirsJs('/proc', [...odd, pid], ['cmdline']),
    ]) {
      try {
        for (const dir of dirs.slice(0, odd.length)) {
          expect(dir).toBeInstanceOf(ProcError);
          expect((dir as ProcError).kind).toBe('gone');
        }
        expect(dirText(dirs[odd.length] as ProcessDir, 'cmdline')).toBe(['sleep', '600', ''].join('\0'));
      } finally {
        for (const dir of dirs) if (!(dir instanceof ProcError)) closeProcessDir(dir);
      }
    }
  });

  it('gives a pagemap fd bound to the process, and closeProcessDir closes what was not taken', async () => {
    const pid = children[0]!.pid!;
    const [taken, left] = dirsOrThrow(openNative([pid, pid], [], 'pagemap'));
    const fd = openInDir(taken!, 'pagemap');
    expect(fstatSync(fd).isFile()).toBe(true);
    const leftFd = left!.opened!.get('pagemap');
    expect(typeof leftFd).toBe('number');
    closeProcessDir(taken!);
    closeProcessDir(left!);
    expect(fstatSync(fd).isFile()).toBe(true); // taken: the caller's to close
    expect(() => fstatSync(leftFd as number)).toThrow(/EBADF/);
    closeSync(fd);
  });

  it('reports a missing PID, a kernel thread and a process that exits afterwards like the twin', async () => {
    const kthread = kernelThreadPid();
    const missing = 4_194_304; // above pid_max's largest value: never a process
    const victim = spawn('sleep', ['600'], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const pids = [missing, kthread, victim.pid!];
    const native = openNative(pids, ['cmdline', 'smaps_rollup'], 'pagemap');
    const js = openProcessDirsJs('/proc', pids, ['cmdline', 'smaps_rollup'], 'pagemap');
    try {
      for (const dirs of [native, js]) {
        expect(dirs[0]).toBeInstanceOf(ProcError);
        expect((dirs[0] as ProcError).kind).toBe('gone');
        const k = dirs[1] as ProcessDir;
        expect(dirBytes(k, 'cmdline').length).toBe(0);
      }
      // The kernel thread's smaps_rollup fails the same way in both.
      const kindOf = (dir: ProcessDir) => {
        try {
          dirBytes(dir, 'smaps_rollup');
          return 'read';
        } catch (error) {
          return (error as ProcError).kind;
        }
      };
      expect(kindOf(native[1] as ProcessDir)).toBe(kindOf(js[1] as ProcessDir));
      // Once the process is gone, the held directory refuses instead of reading a successor.
      victim.kill('SIGKILL');
      await new Promise((resolve) => victim.once('exit', resolve));
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (const dirs of [native, js]) {
        expect(() => dirText(dirs[2] as ProcessDir, 'stat')).toThrow(ProcError);
      }
    } finally {
      for (const dir of [...native, ...js]) if (!(dir instanceof ProcError)) closeProcessDir(dir);
    }
  });

  it('reads the pagemap of small processes with them, exactly as PagemapReader reads it itself', () => {
    const pids = children.map((c) => c.pid!);
    const reader = new PagemapReader(undefined, false);
    const native = dirsOrThrow(openNative(pids, ['maps'], 'pagemap', SPARSE_VMA_BYTES));
    try {
      for (const [i, dir] of native.entries()) {
        expect(dir.pagemap, `pid ${pids[i]}`).toBeDefined();
        expect(dir.pagemap).not.toBeInstanceOf(ProcError);
        const prefetched = reader.read(dir, () => readMaps(dir));
        // Taken from the batch, not read again: the pagemap fd opened with the directory was not used.
        expect(dir.opened!.has('pagemap')).toBe(true);
        const [own] = dirsOrThrow(openProcessDirsJs('/proc', [dir.pid], ['maps'], 'pagemap'));
        try {
          const read = reader.read(own!, () => readMaps(own!));
          expect(prefetched.pfns.length).toBeGreaterThan(0);
          expect({ ...prefetched, pfns: [...prefetched.pfns], attrs: [...prefetched.attrs] }).toEqual({
            ...read,
            pfns: [...read.pfns],
            attrs: [...read.attrs],
          });
        } finally {
          closeProcessDir(own!);
        }
      }
    } finally {
      for (const dir of native) closeProcessDir(dir);
    }
  });

  it('leaves a process with a mapping of pagemapBelow bytes or more to PagemapReader', () => {
    const pid = children[0]!.pid!;
    const [dir] = dirsOrThrow(openNative([pid], ['maps'], 'pagemap', 4096));
    try {
      expect(dir!.pagemap).toBeUndefined();
    } finally {
      closeProcessDir(dir!);
    }
  });
});

describe('sharedFrom', () => {
  let holder: ChildProcess | undefined;
  beforeAll(async () => {
    // A process with a 2 MiB shared anonymous mapping ("/dev/zero (deleted)", perms rw-s), one page written.
    holder = spawn(
      'python3',
      [
        '-c',
        'import mmap,sys,time\nm=mmap.mmap(-1,2<<20,flags=mmap.MAP_SHARED)\nm.write(b"x"*4096)\nprint("ready",flush=True)\ntime.sleep(600)',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      holder!.stdout!.once('data', () => resolve());
      holder!.once('exit', () => reject(new Error('the python helper exited')));
    });
  });
  afterAll(() => holder?.kill('SIGKILL'));

  it.each([
    [0, true],
    [1024 * 1024, false],
    [2 * 1024 * 1024, false],
    [2 * 1024 * 1024 + 4096, true],
  ])(
    'with sharedFrom %i a process with a 2 MiB shared mapping is prefetched: %s',
    (sharedFrom, prefetched) => {
      const pid = holder!.pid!;
      const shared = readFileSync(`/proc/${pid}/maps`, 'latin1')
        .split('\n')
        .filter((line) => / [r-][w-][x-]s /.test(line));
      expect(shared.some((line) => line.includes('/dev/zero'))).toBe(true);
      const [dir] = dirsOrThrow(
        openProcessDirsNative(requireBatch(), '/proc', [pid], ['maps'], {
          openFirst: 'pagemap',
          pagemapBelow: SPARSE_VMA_BYTES,
          sharedFrom,
        }),
      );
      try {
        if (prefetched) expect(dir!.pagemap).toMatchObject({ pfns: expect.any(Uint32Array) });
        else expect(dir!.pagemap).toBeUndefined();
      } finally {
        closeProcessDir(dir!);
      }
    },
  );
});
