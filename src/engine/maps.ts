import type { ProcessPages } from '../account/process-pages.js';
import type { MemUsage } from '../account/usage.js';
import { accountRows, countPageStates, type PageStates, pageStatesOf } from '../account/vma-account.js';
import type { FrameTable } from '../procfs/kpage.js';
import type { UserNames } from '../procfs/users.js';
import type { Capabilities } from './capabilities.js';
import { EngineUnavailableError } from './errors.js';
import { takeDetailedSnapshot } from './snapshot.js';
import type { EngineChoice, ProcessMemory, Snapshot } from './types.js';

/** One row of `memusage maps`: the mappings of one name, or (with `all`) one mapping. */
export interface MappingRow {
  /** File path, or a kernel name such as [heap], [stack], [vdso]; "[anon]" for a nameless mapping. Raw. */
  name: string;
  /** Mappings in the row. */
  mappings: number;
  /** Lowest start address of the row's mappings (its place in the address space). */
  start: number;
  /** With `all`: the mapping's end, permissions and file offset. */
  end?: number;
  perms?: string;
  offset?: number;
  usage: MemUsage;
  /** With `flags`: page states from kpageflags. */
  states?: PageStates;
}

export interface MapsOptions {
  procRoot: string;
  pid: number;
  engine?: EngineChoice;
  /** One row per mapping instead of one per name. */
  all?: boolean;
  /** Count page states (dirty, mlocked, active, …). */
  flags?: boolean;
}

export interface MapsResult {
  snapshot: Snapshot;
  /** Undefined when the process could not be measured (then snapshot.skipped says why). */
  process: ProcessMemory | undefined;
  rows: MappingRow[];
  /** The process total: equals process.usage, and every field of the rows sums to it. */
  total: MemUsage | undefined;
  totalStates?: PageStates;
}

/** The row key of a mapping: its name, "[anon]" when it has none. */
export const mappingName = (name: string): string => (name === '' ? '[anon]' : name);

const rowsOf = (pages: ProcessPages, table: FrameTable, o: MapsOptions) => {
  const { vmas } = pages;
  const rowOf = new Uint32Array(vmas.length);
  const firstVma: number[] = [];
  const byName = new Map<string, number>();
  vmas.forEach((vma, v) => {
    const key = mappingName(vma.name);
    let r = o.all ? undefined : byName.get(key);
    if (r === undefined) {
      r = firstVma.length;
      firstVma.push(v);
      byName.set(key, r);
    }
    rowOf[v] = r;
  });
  const { rows: usages, total } = accountRows(pages, table, rowOf, firstVma.length);
  const rows: MappingRow[] = firstVma.map((v, r) => {
    const vma = vmas[v]!;
    const row: MappingRow = { name: mappingName(vma.name), mappings: 0, start: vma.start, usage: usages[r]! };
    if (o.all) Object.assign(row, { end: vma.end, perms: vma.perms, offset: vma.offset });
    return row;
  });
  const states = o.flags ? rows.map(() => new Float64Array(5)) : undefined;
  for (let v = 0; v < vmas.length; v++) {
    rows[rowOf[v]!]!.mappings++;
    if (states) countPageStates(pages, table, v, v + 1, states[rowOf[v]!]!);
  }
  if (!states) return { rows, total };
  const sum = new Float64Array(5);
  rows.forEach((row, r) => {
    row.states = pageStatesOf(states[r]!);
    for (let s = 0; s < 5; s++) sum[s]! += states[r]![s]!;
  });
  return { rows, total, totalStates: pageStatesOf(sum) };
};

/**
 * Measure one process mapping by mapping, from the same pages and frame table as its total, so the rows add
 * up to what `memusage pid` prints. Needs the pagemap engine (frames); smaps alone cannot give exact rows.
 */
export const measureMaps = (o: MapsOptions, caps: Capabilities, users: UserNames): MapsResult => {
  if (o.engine === 'smaps') {
    throw new EngineUnavailableError(
      'maps needs the pagemap engine (page frames); --engine smaps cannot do it',
    );
  }
  const { snapshot, detail } = takeDetailedSnapshot(
    { procRoot: o.procRoot, pids: [o.pid], engine: 'pagemap', flags: true },
    caps,
    users,
  );
  const collected = detail?.collected.find((c) => c.header.pid === o.pid);
  const process = snapshot.processes.find((p) => p.pid === o.pid);
  if (!detail || !collected || !process) return { snapshot, process: undefined, rows: [], total: undefined };
  return { snapshot, process, ...rowsOf(collected.pages, detail.table, o) };
};
