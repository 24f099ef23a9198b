import { Option } from '@commander-js/extra-typings';
import { parseEngine } from '../parse-options.js';

/** --engine, shared by every measuring command. */
export const engineOption = () =>
  new Option('--engine <name>', 'auto (pagemap as root, else smaps_rollup), pagemap, or smaps')
    .argParser(parseEngine)
    .default('auto' as const);

/** Hidden: read another directory laid out like /proc (tests, captures); MEMUSAGE_PROC_ROOT does the same. */
export const procRootOption = () => new Option('--proc-root <dir>').hideHelp();
