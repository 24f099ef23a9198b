/** export --output and --capture: the file appears whole or not at all, and nothing else is left in its directory. */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AtomicWriteError, writeFileAtomic } from '../../../src/files/write-atomic.js';
import { tempDir } from '../../helpers/exporters.js';

let tmp: ReturnType<typeof tempDir>;
afterEach(() => tmp.remove());

describe('writeFileAtomic', () => {
  it('replaces the file whole; no temporary file is left', () => {
    tmp = tempDir('atomic');
    const path = join(tmp.dir, 'memusage.prom');
    writeFileSync(path, 'old\n');
    writeFileAtomic(path, 'new\n', 0o644);
    expect(readFileSync(path, 'utf8')).toBe('new\n');
    expect(readdirSync(tmp.dir)).toEqual(['memusage.prom']);
  });

  it('a rename that fails (a directory in the way) leaves the directory as it was, as a AtomicWriteError', () => {
    tmp = tempDir('atomic');
    const path = join(tmp.dir, 'memusage.prom');
    mkdirSync(path);
    writeFileSync(join(path, 'keep'), 'x');
    expect(() => writeFileAtomic(path, 'new\n', 0o644)).toThrow(AtomicWriteError);
    expect(() => writeFileAtomic(path, 'new\n', 0o644)).toThrow(
      /^cannot write .*memusage\.prom: E(ISDIR|NOTEMPTY|EXIST)$/,
    );
    expect(readdirSync(tmp.dir)).toEqual(['memusage.prom']);
  });
});
