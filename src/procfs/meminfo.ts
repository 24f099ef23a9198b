import { type Meminfo, parseMeminfo } from '../parse/meminfo.js';
import { readProcText } from './read.js';
import type { ProcRoot } from './root.js';

export const readMeminfo = (root: ProcRoot): Meminfo => parseMeminfo(readProcText(`${root}/meminfo`));
