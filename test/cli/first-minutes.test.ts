/**
 * What a new user meets in the first minutes, through the real bin/memusage: `help` with a wrong name,
 * a full disk behind stdout, and a PID that /proc's hidepid option hides.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, runCli, stderrLines } from '../helpers/cli.js';
import { AS_NOBODY, nobodyBin, removeNobodyCopy } from '../helpers/nobody.js';
import { requireRoot } from '../helpers/require-root.js';

describe('memusage help', () => {
  it('an unknown command is one line and exit 2; a known one prints its help, exit 0', () => {
    const bogus = runCli(['help', 'bogus']);
    expect(bogus.exitCode).toBe(2);
    expect(bogus.stdout).toBe('');
    expect(stderrLines(bogus)).toEqual([expect.stringMatching(/^memusage: unknown command 'bogus'/)]);
    const pid = runCli(['help', 'pid']);
    expect(pid.exitCode).toBe(0);
    expect(pid.stdout).toMatch(/^Usage: memusage pid \[options\] <pid\.\.\.>/);
    const main = runCli(['help']);
    expect(main.exitCode).toBe(0);
    expect(main.stdout).toMatch(/^Usage: memusage \[options\] \[command\]/);
  });
});

describe('a failing stdout', () => {
  it('disk full (/dev/full) is an I/O error: one line naming it, exit 1', () => {
    const r = spawnSync('sh', ['-c', '"$0" system >/dev/full', BIN], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.status).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('memusage: '));
    expect(errors).toEqual(['memusage: cannot write to standard output: no space left on device (ENOSPC)']);
    expect(r.stderr).not.toMatch(/internal error/);
  });
});

describe.skipIf(!requireRoot())(
  'a PID hidden by hidepid=invisible (as nobody, in a private mount of /proc)',
  () => {
    afterAll(removeNobodyCopy);

    it('says the process may exist but be hidden by the mount option; without the option it does not', () => {
      const bin = nobodyBin();
      // -q: the error is then the first stderr line (the engine line would come first).
      const asNobody = `setpriv ${AS_NOBODY.join(' ')} "${process.execPath}" "${bin}" pid 1 -q`;
      const run = (options: string) =>
        spawnSync(
          'unshare',
          [
            '--mount',
            '--propagation',
            'private',
            'sh',
            '-c',
            `mount -t proc -o ${options} proc /proc && ${asNobody}`,
          ],
          { encoding: 'utf8', cwd: '/', env: { ...process.env, NO_COLOR: '1' } },
        );
      const hidden = run('hidepid=invisible');
      expect(hidden.status).toBe(3);
      expect(hidden.stderr.split('\n')[0]).toBe(
        "memusage: no process with PID 1 (or it is another user's, hidden: /proc is mounted with hidepid=invisible)",
      );
      // Control: the same private mount without hidepid shows PID 1, root's, as not readable instead.
      const plain = run('rw');
      expect(plain.status).toBe(3);
      expect(plain.stderr.split('\n')[0]).toMatch(/^memusage: 1: permission denied/);
    });
  },
);
