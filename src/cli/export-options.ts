import type { GroupBy } from '../engine/groups.js';
import { ConfigFileError } from '../export/errors.js';
import { compileGroupRules, PER_PROCESS_WARNING, RuleError } from '../export/group-rules.js';
import { UsageError } from './errors.js';

/** Options that `serve` and `export` share, as commander hands them over. */
export interface GroupingOptions {
  by?: string;
  groupRules?: string;
  maxGroups: number;
}

const GROUPINGS = ['command', 'user', 'cgroup', 'unit'] as const;

/** Default --max-groups: enough for a host's services, few enough series per host. */
export const DEFAULT_MAX_GROUPS = 20;

/** --max-groups: a whole number 0..10000 (0: everything in "other"). */
export const parseMaxGroups = (text: string): number => {
  if (!/^\d+$/.test(text) || Number(text) > 10_000)
    throw new UsageError(`--max-groups: '${text}' is not a whole number 0..10000`);
  return Number(text);
};

/**
 * The grouping: --by (command by default) or --group-rules FILE, not both. A rules file that cannot be
 * read or is invalid is a usage error naming the file (ConfigFileError).
 */
export const groupingOf = (
  o: GroupingOptions,
  readYaml: (option: string, path: string) => unknown,
): { by: GroupBy; name: string; warning?: string } => {
  if (o.groupRules !== undefined) {
    if (o.by !== undefined) throw new UsageError('--by and --group-rules cannot be combined');
    const doc = readYaml('--group-rules', o.groupRules);
    try {
      const by = compileGroupRules(doc);
      return { by, name: 'rules', ...(by.perProcess ? { warning: PER_PROCESS_WARNING } : {}) };
    } catch (error) {
      if (error instanceof RuleError) throw new ConfigFileError('--group-rules', o.groupRules, error.message);
      throw error;
    }
  }
  const by = GROUPINGS.find((g) => g === (o.by ?? 'command'));
  if (!by) throw new UsageError(`cannot group by '${o.by}' (command, user, cgroup, unit)`);
  return { by, name: by };
};
