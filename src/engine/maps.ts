import type { FrameTable } from '../account/frame-table.js';
import type { ProcessPages } from '../account/process-pages.js';
import type { MemUsage } from '../account/usage.js';
import { accountRows, countPageStates, type PageStates, pageStatesOf } from '../account/vma-account.js';
import type { UserNames } from '../procfs/users.js';
import type { Capabilities } from './capabilities.js';
import { EngineUnavailableError } from './errors.js';
import { measureProcesses } from './process-batch.js';
import {
  type RowUsage,
  readSmapsProcess,
  SMAPS_NOTES,
  type SmapsProcess,
  smapsEngineReason,
} from './smaps-rows.js';
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
  /** From smaps, PSS of anon pages may be unknown (null); from pagemap, every field is as in MemUsage. */
  usage: RowUsage;
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

/** One smaps block per VMA, grouped into rows as rowsOf does with pages. */
const smapsRowsOf = (proc: SmapsProcess, o: MapsOptions): { rows: MappingRow[] } => {
  const rows: MappingRow[] = [];
  const byName = new Map<string, MappingRow>();
  for (const { vma, usage } of proc.mappings) {
    const name = mappingName(vma.name);
    const row = o.all ? undefined : byName.get(name);
    if (row) {
      row.mappings++;
      for (const key of Object.keys(usage) as (keyof RowUsage)[]) {
        const a = row.usage[key];
        const b = usage[key];
        (row.usage as Record<keyof RowUsage, number | null>)[key] = a === null || b === null ? null : a + b;
      }
      continue;
    }
    const fresh: MappingRow = { name, mappings: 1, start: vma.start, usage: { ...usage } };
    if (o.all) Object.assign(fresh, { end: vma.end, perms: vma.perms, offset: vma.offset });
    else byName.set(name, fresh);
    rows.push(fresh);
  }
  return { rows };
};

/**
 * Without page frames (or with --engine smaps): the kernel's per-mapping smaps. The process record is the
 * smaps total, so rows, TOTAL and the process agree; they sum to smaps_rollup (see smapsProcess).
 */
const measureMapsFromSmaps = (o: MapsOptions, caps: Capabilities, users: UserNames): MapsResult => {
  if (o.flags) {
    throw new EngineUnavailableError(
      `maps --flags needs the pagemap engine (page flags): ${o.engine === 'smaps' ? '--engine smaps was given' : caps.framesReason}`,
    );
  }
  const takenAt = Date.now();
  const [result] = measureProcesses(
    o.procRoot,
    [o.pid],
    users,
    { explicit: true, cgroup: false },
    { files: [] },
    (dir, header) => ({ header, smaps: readSmapsProcess(dir) }),
  );
  const notes: string[] = [...SMAPS_NOTES.maps];
  if (result && !('reason' in result) && !result.smaps.consistent) {
    notes.push('the process changed between reads of smaps and smaps_rollup: TOTAL is the sum of the rows');
  }
  const snapshot: Snapshot = {
    takenAt,
    engine: 'smaps',
    engineReason: smapsEngineReason(o.engine, caps.framesReason),
    notes,
    processes: [],
    skipped: [],
  };
  if (!result || 'reason' in result) {
    if (result) snapshot.skipped.push(result);
    return { snapshot, process: undefined, rows: [], total: undefined };
  }
  const { status: _status, ...rest } = result.header;
  const process: ProcessMemory = { ...rest, usage: result.smaps.total, source: 'smaps' };
  snapshot.processes.push(process);
  return { snapshot, process, total: result.smaps.total, ...smapsRowsOf(result.smaps, o) };
};

/**
 * Measure one process mapping by mapping. With the pagemap engine, from the same pages and frame table as
 * its total, so the rows add up to what `memusage pid` prints; without page frames (not root), from the
 * kernel's smaps of the process, summing to its smaps_rollup.
 */
export const measureMaps = (o: MapsOptions, caps: Capabilities, users: UserNames): MapsResult => {
  if (o.engine === 'smaps' || (o.engine !== 'pagemap' && !caps.frames)) {
    return measureMapsFromSmaps(o, caps, users);
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
