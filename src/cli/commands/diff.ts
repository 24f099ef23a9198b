import { type DiffMetric, type DiffRow, diffGroups, diffProcesses } from '../../engine/diff.js';
import { type GroupBy, groupProcesses } from '../../engine/groups.js';
import { takeStreamedSnapshot } from '../../engine/snapshot.js';
import type { EngineChoice, Snapshot } from '../../engine/types.js';
import { renderDiffTable } from '../../view/diff-render.js';
import { toJson } from '../../view/records.js';
import type { CommandContext } from '../context.js';
import { EXIT_OK } from '../errors.js';
import { tableWidth, useColor, writeData } from '../io.js';

export interface DiffOptions {
  by: Extract<GroupBy, string>;
  sort: DiffMetric;
  limit?: number;
  all?: boolean;
  json?: boolean;
  bytes?: boolean;
  header: boolean;
  wide?: boolean;
  engine: EngineChoice;
}

export interface DiffSide {
  /** The capture file, or '-' for the machine now. */
  name: string;
  ctx: CommandContext;
}

const measure = (side: DiffSide, options: DiffOptions) => {
  const { ctx } = side;
  const { snapshot, frames } = takeStreamedSnapshot(
    { procRoot: ctx.procRoot, engine: options.engine, flags: false, cgroups: options.by === 'cgroup' },
    { groupBy: options.by },
    ctx.capabilities(),
    ctx.users(),
  );
  return { snapshot, groups: groupProcesses(snapshot.processes, options.by, frames?.groups) };
};

const describe = (side: DiffSide, snapshot: Snapshot) => ({
  source: side.name === '-' ? 'now' : side.name,
  takenAt: new Date(snapshot.takenAt).toISOString(),
  engine: snapshot.engine,
  processes: snapshot.processes.length,
});

/** Rows that moved (all rows with --all), at most --limit of them. */
const shown = (rows: readonly DiffRow[], options: DiffOptions): DiffRow[] => {
  const moved = options.all
    ? rows
    : rows.filter((r) => r.change !== 'same' || r.delta.rss !== 0 || r.delta.pss !== 0 || r.delta.uss !== 0);
  return options.limit === undefined ? [...moved] : moved.slice(0, options.limit);
};

/** `memusage diff A B`: what grew and what shrank between two snapshots, per process and per group. */
export const runDiff = (io: CommandContext['io'], a: DiffSide, b: DiffSide, options: DiffOptions): number => {
  const before = measure(a, options);
  const after = measure(b, options);
  const processes = shown(
    diffProcesses(before.snapshot.processes, after.snapshot.processes, options.sort),
    options,
  );
  const groups = shown(diffGroups(before.groups, after.groups, options.sort), options);
  if (options.json) {
    writeData(
      io,
      toJson({
        a: describe(a, before.snapshot),
        b: describe(b, after.snapshot),
        sort: options.sort,
        by: options.by,
        processes,
        groups,
      }),
      'json',
    );
    return EXIT_OK;
  }
  const table = {
    width: tableWidth(io, options.wide),
    header: options.header,
    color: useColor(io),
  };
  const units = options.bytes ? 'bytes' : 'human';
  const side = (name: string, snapshot: Snapshot) => {
    const d = describe({ name, ctx: a.ctx }, snapshot);
    return `${d.source} (${d.takenAt})`;
  };
  const title = `A ${side(a.name, before.snapshot)} -> B ${side(b.name, after.snapshot)}, by ${options.sort.toUpperCase()} growth`;
  const tables = [
    renderDiffTable('PROCESS', processes, options.sort, units, table),
    renderDiffTable(options.by.toUpperCase(), groups, options.sort, units, table),
  ];
  io.out(`${title}\n\n${tables.map((t) => (t.endsWith('\n') ? t : `${t}\n`)).join('\n')}`);
  return EXIT_OK;
};
