import { Option } from '@commander-js/extra-typings';
import { DEFAULT_MAX_GROUPS, parseMaxGroups } from '../export-options.js';
import { parseEngine, parsePidList } from '../parse-options.js';

/** --engine, shared by every measuring command. */
export const engineOption = () =>
  new Option('--engine <name>', 'auto (pagemap as root, else smaps_rollup), pagemap, or smaps')
    .argParser(parseEngine)
    .default('auto' as const);

/** Hidden: read another directory laid out like /proc (tests, captures); MEMUSAGE_PROC_ROOT does the same. */
export const procRootOption = () => new Option('--proc-root <dir>').hideHelp();

/**
 * Hidden, for serve and export: measure only these PIDs (the tests' helpers on a busy machine); "the
 * machine" is then these processes.
 */
export const pidsOption = () => new Option('--pid <list>').argParser(parsePidList).hideHelp();

/** -w: whole names on a terminal too (in a pipe or file they are never cut unless COLUMNS is set). */
export const wideOption = () =>
  new Option(
    '-w, --wide',
    'never cut names to fit the terminal (a pipe or file gets them whole unless COLUMNS is set)',
  );

/** serve and export group the same way: --by, --group-rules and --max-groups, one definition for both. */
export const exportByOption = () =>
  new Option('--by <what>', 'one series per command (default), user, cgroup or unit (systemd unit/scope)');
export const groupRulesOption = () =>
  new Option(
    '--group-rules <file>',
    "group by process-exporter's process_names rules (YAML), first match wins",
  );
export const maxGroupsOption = () =>
  new Option(
    '--max-groups <n>',
    `series for the N largest groups by PSS, the rest in group "other" (default ${DEFAULT_MAX_GROUPS})`,
  )
    .argParser(parseMaxGroups)
    .default(DEFAULT_MAX_GROUPS);
