import { writeFileSync } from 'node:fs';
import { type Io, writeData } from './io.js';

/** Write a report to FILE, or to stdout for '-'. Returns an error message instead of throwing. */
export const writeOutput = (
  io: Io,
  path: string,
  text: string,
  kind: 'json' | 'csv' | 'other',
): string | undefined => {
  if (path === '-') {
    writeData(io, text, kind);
    return undefined;
  }
  try {
    writeFileSync(path, text);
    return undefined;
  } catch (error) {
    return `cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`;
  }
};
