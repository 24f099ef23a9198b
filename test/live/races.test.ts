import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { takeDetailedSnapshot } from '../../src/engine/snapshot.js';
import { ProcError } from '../../src/procfs/errors.js';
import { closeProcessDir, openProcessDir } from '../../src/procfs/process-dir.js';
import { readStat } from '../../src/procfs/process-info.js';
import { requireRoot } from '../helpers/require-root.js';

const root = requireRoot();

/** Start `sleep`, return its PID and a function that kills and reaps it. */
const startSleeper = async () => {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    pid: child.pid!,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
};

describe.skipIf(!root)('races with the processes being measured', () => {
  it('a process that exits after its directory was opened reads as gone, not as another process', async () => {
    const sleeper = await startSleeper();
    const dir = openProcessDir('/proc', sleeper.pid);
    try {
      expect(readStat(dir).comm).toBe('sleep');
      await sleeper.kill();
      let error: unknown;
      try {
        readStat(dir);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ProcError);
      expect((error as ProcError).kind).toBe('gone');
    } finally {
      closeProcessDir(dir);
    }
  });

  it('a reused PID: the held directory refuses, so the new process is never read in its place', async () => {
    // Force reuse through ns_last_pid (root only); other processes may grab the PID first, so retry.
    for (let attempt = 0; attempt < 20; attempt++) {
      const sleeper = await startSleeper();
      const dir = openProcessDir('/proc', sleeper.pid);
      try {
        readStat(dir);
        await sleeper.kill();
        writeFileSync('/proc/sys/kernel/ns_last_pid', String(sleeper.pid - 1));
        const reuse = spawn('sh', ['-c', 'echo $$; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
        const reusedPid = await new Promise<number>((resolve) =>
          reuse.stdout.once('data', (d) => resolve(Number(String(d).trim()))),
        );
        try {
          if (reusedPid !== sleeper.pid) continue;
          // The PID now names another process. Its start time may even equal the old one (clock ticks
          // are 10 ms), which is why the engine holds the directory instead of comparing start times.
          expect(existsSync(`/proc/${reusedPid}/stat`)).toBe(true);
          // ... and the directory held from before refuses instead of reading it.
          expect(() => readStat(dir)).toThrow(ProcError);
        } finally {
          reuse.kill('SIGKILL');
        }
        return;
      } finally {
        closeProcessDir(dir);
      }
    }
    throw new Error('could not force PID reuse in 20 attempts');
  });

  it('the snapshot of a PID that died before it was opened says no-such-process; a live one is measured', async () => {
    const sleeper = await startSleeper();
    const alive = await startSleeper();
    try {
      await sleeper.kill();
      const { snapshot } = takeDetailedSnapshot({ pids: [sleeper.pid, alive.pid], engine: 'pagemap' });
      expect(snapshot.skipped).toEqual([
        { pid: sleeper.pid, reason: 'no-such-process', message: `no process with PID ${sleeper.pid}` },
      ]);
      expect(snapshot.processes.map((p) => p.pid)).toEqual([alive.pid]);
      expect(snapshot.processes[0]!.startTime).toBe(
        Number(readFileSync(`/proc/${alive.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]),
      );
    } finally {
      await alive.kill();
    }
  });
});
