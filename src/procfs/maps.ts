import { parseMaps, type Vma } from '../parse/maps.js';
import type { ProcessDir } from './process-dir.js';
import { readProcText } from './read.js';

export const readMaps = (dir: ProcessDir): Vma[] => parseMaps(readProcText(`${dir.base}/maps`));
