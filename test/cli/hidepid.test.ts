/**
 * A PID that /proc's hidepid option hides, through the real bin/memusage run as nobody in a private mount of
 * /proc: the error says the process may exist but be hidden.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { AS_NOBODY, nobodyBin, removeNobodyCopy } from '../helpers/nobody.js';
import { requireRoot } from '../helpers/require-root.js';

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
