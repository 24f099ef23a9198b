/** The one /proc writer: only the documented values are written, errors come back as ProcError. */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { type ClearRefsValue, writeClearRefs } from '../../../src/procfs/clear-refs.js';
import { ProcError } from '../../../src/procfs/errors.js';
import { closeProcessDir, openProcessDir } from '../../../src/procfs/process-dir.js';
import { ProcTree, type WrittenTree } from '../../helpers/proc-tree.js';

let tree: WrittenTree | undefined;
afterEach(() => tree?.cleanup());

const fixture = () => {
  const t = new ProcTree();
  t.process(10);
  tree = t.write();
  return tree;
};

it('writes 1, 2, 3 or 5 followed by a newline; refuses anything else without writing', () => {
  const t = fixture();
  // A regular file stands in for /proc/10/clear_refs (opened write-only without O_CREAT, so it must exist).
  const path = `${t.root}/10/clear_refs`;
  writeFileSync(path, '');
  const dir = openProcessDir(t.root, 10);
  try {
    for (const value of [1, 2, 3, 5] as const) {
      writeFileSync(path, '');
      writeClearRefs(dir, value);
      expect(readFileSync(path, 'utf8')).toBe(`${value}\n`);
    }
    for (const bad of [0, 4, 6, -1]) {
      expect(() => writeClearRefs(dir, bad as ClearRefsValue)).toThrow(ProcError);
      expect(readFileSync(path, 'utf8')).toBe('5\n');
    }
  } finally {
    closeProcessDir(dir);
  }
});

it('a process without clear_refs (gone) is a ProcError of kind gone', () => {
  const t = fixture();
  const dir = openProcessDir(t.root, 10);
  try {
    expect(() => writeClearRefs(dir, 1)).toThrow(expect.objectContaining({ kind: 'gone' }));
  } finally {
    closeProcessDir(dir);
  }
});
