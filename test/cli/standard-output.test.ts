/**
 * Standard output and error of the real bin/memusage when they are files, pipes or /dev/null: written
 * directly, without loading Node's stream modules; a reader that goes away ends the run quietly.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';

/** A preload that writes, at exit, Node's modules of the stream family (stream, net, tty) loaded by then to fd 3. */
const STREAM_MODULES_HOOK =
  "process.on('exit', () => require('node:fs').writeSync(3, JSON.stringify(process.moduleLoadList.filter((m) => /^NativeModule (stream|net|tty)$/.test(m)))));";

describe('standard output and error', () => {
  it('loads no stream module when both are pipes, files or /dev/null', () => {
    const dir = mkdtempSync(join(tmpdir(), 'memusage-output-'));
    // CommonJS (--require): an ES module hook would load the stream modules itself.
    writeFileSync(join(dir, 'hook.cjs'), STREAM_MODULES_HOOK);
    try {
      for (const redirect of ['| cat >/dev/null', `> ${dir}/out 2> ${dir}/err`, '>/dev/null 2>&1']) {
        const r = spawnSync('sh', ['-c', `"$0" top --once -p $$ 3>${dir}/modules ${redirect}`, BIN], {
          encoding: 'utf8',
          env: { ...process.env, NODE_OPTIONS: `--require ${join(dir, 'hook.cjs')}` },
        });
        expect([redirect, r.status]).toEqual([redirect, 0]);
        expect(JSON.parse(readFileSync(join(dir, 'modules'), 'utf8'))).toEqual([]);
      }
      // What went to the files is what a pipe gets: the table, and the notes on stderr.
      expect(readFileSync(join(dir, 'out'), 'utf8')).toMatch(/^ *PID USER .*\n.*\n +TOTAL /);
      expect(readFileSync(join(dir, 'err'), 'utf8')).toMatch(/^memusage: .*engine/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends quietly with status 0 when the reader of its output has gone (| true)', () => {
    // `true` exits at once: the first write of the table meets a pipe without a reader (EPIPE).
    // One process (the shell), so that the runs are short also without the addon.
    for (const args of ['top --once -p $$', 'top --once -p $$ --json', '--help']) {
      const r = spawnSync('bash', ['-c', `set -o pipefail; "$0" ${args} | true`, BIN], { encoding: 'utf8' });
      expect([args, r.status, r.stderr]).toEqual([
        args,
        0,
        expect.not.stringMatching(/internal|cannot write/),
      ]);
    }
  });
});
