import { type KbFields, parseSmaps, parseSmapsRollup, type SmapsEntry } from '../parse/smaps.js';
import { dirText, type ProcessDir } from './process-dir.js';

export const readSmapsRollup = (dir: ProcessDir): KbFields => parseSmapsRollup(dirText(dir, 'smaps_rollup'));

export const readSmaps = (dir: ProcessDir): SmapsEntry[] => parseSmaps(dirText(dir, 'smaps'));
