import { parseMaps, type Vma } from '../parse/maps.js';
import { dirText, type ProcessDir } from './process-dir.js';

export const readMaps = (dir: ProcessDir): Vma[] => parseMaps(dirText(dir, 'maps'));
