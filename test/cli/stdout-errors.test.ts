/** A standard output that cannot be written, through the real bin/memusage: one line naming the error, exit 1. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';

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
