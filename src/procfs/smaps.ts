import { type KbFields, parseSmaps, parseSmapsRollup, type SmapsEntry } from '../parse/smaps.js';
import type { ProcessDir } from './process-dir.js';
import { readProcText } from './read.js';

export const readSmapsRollup = (dir: ProcessDir): KbFields =>
  parseSmapsRollup(readProcText(`${dir.base}/smaps_rollup`));

export const readSmaps = (dir: ProcessDir): SmapsEntry[] => parseSmaps(readProcText(`${dir.base}/smaps`));
