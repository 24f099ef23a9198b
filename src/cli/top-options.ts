import type { EngineChoice } from '../engine/types.js';
import type { UserNames } from '../procfs/users.js';
import { COLUMNS, type Column, columnById } from '../view/columns.js';
import { DEFAULT_COLUMNS, DEFAULT_GROUP_COLUMNS, type TopSelection } from '../view/top-rows.js';
import { UsageError } from './errors.js';
import { parseRegexOption } from './parse-options.js';

/** `top`'s options as commander hands them over. */
export interface TopOptions {
  sort: string;
  reverse?: boolean;
  limit?: number;
  columns?: string;
  totals: boolean;
  header: boolean;
  pid?: number[];
  user?: string[];
  process?: string;
  min?: number;
  by?: string;
  all?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  bytes?: boolean;
  json?: boolean;
  csv?: boolean;
  once?: boolean;
  watch?: number;
  wide?: boolean;
  interval: number;
  engine: EngineChoice;
}

const GROUPINGS = ['user', 'command', 'cgroup', 'unit'] as const;

const knownColumns = () => COLUMNS.map((c) => c.id).join(', ');

const column = (id: string, what: string): Column => {
  const c = columnById(id);
  if (!c) throw new UsageError(`unknown ${what} '${id}' (known: ${knownColumns()}; see --list-columns)`);
  return c;
};

/** Validate every option once, up front, into the pure selection the view works from. */
export const topSelection = (o: TopOptions, users: UserNames): TopSelection => {
  if (o.json && o.csv) throw new UsageError('--json and --csv cannot be combined');
  if (o.once && o.watch !== undefined) throw new UsageError('--once and --watch cannot be combined');
  const by = o.by === undefined ? undefined : GROUPINGS.find((g) => g === o.by);
  if (o.by !== undefined && !by)
    throw new UsageError(`cannot group by '${o.by}' (user, command, cgroup, unit)`);
  const ids = o.columns
    ? o.columns
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    : by
      ? DEFAULT_GROUP_COLUMNS[by]
      : DEFAULT_COLUMNS;
  if (ids.length === 0) throw new UsageError('--columns needs at least one column');
  const process = parseRegexOption('--process', o.process);
  let userFilter: TopSelection['users'];
  if (o.user && o.user.length > 0) {
    userFilter = { names: new Set(), uids: new Set() };
    for (const u of o.user) {
      if (/^\d+$/.test(u)) userFilter.uids.add(Number(u));
      else if (users.uidOf(u) !== undefined) userFilter.names.add(u);
      else throw new UsageError(`--user: no such user '${u}'`);
    }
  }
  return {
    columns: ids.map((id) => column(id, 'column')),
    sort: column(o.sort, 'sort column'),
    reverse: o.reverse === true,
    limit: o.limit,
    pids: o.pid,
    users: userFilter,
    process,
    min: o.min,
    by,
    all: o.all === true,
  };
};

/** `--list-columns`: every column with its unit and meaning. */
export const listColumns = (): string =>
  `${COLUMNS.map((c) => `${c.id.padEnd(10)} ${c.header.padEnd(10)} ${(c.unit ?? c.kind).padEnd(7)} ${c.description}`).join('\n')}\n` +
  'Sizes print in 1024-based units (K, M, G) by default and in bytes with --bytes, --json and --csv.\n';
