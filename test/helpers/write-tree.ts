import { onTestFinished } from 'vitest';
import type { ProcTree, WrittenTree } from './proc-tree.js';

/** A fixture proc root written for the current test and removed when it finishes. */
export const writeTree = (tree: ProcTree): WrittenTree => {
  const written = tree.write();
  onTestFinished(() => written.cleanup());
  return written;
};
