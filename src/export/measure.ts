/**
 * One measurement for the exporter: the streamed snapshot with groups that `top --once --by … --json`
 * takes (same engine, same exact group frames), folded to the --max-groups largest groups by PSS plus
 * "other", so every group's PSS still sums to the machine's.
 */
import { performance } from 'node:perf_hooks';
import type { Capabilities } from '../engine/capabilities.js';
import { type GroupBy, type GroupMemory, groupNeedsCgroup, groupProcesses } from '../engine/groups.js';
import { takeStreamedSnapshot } from '../engine/snapshot.js';
import { exactFrames } from '../engine/stream.js';
import type { StreamScratch } from '../engine/stream-scratch.js';
import type { EngineChoice, EngineName, SkipReason } from '../engine/types.js';
import type { UserNames } from '../procfs/users.js';
import { OTHER_GROUP } from './group-rules.js';

export interface ExportGroup {
  key: string;
  processes: number;
  pss: number;
  /** Exact for the group as a whole with the pagemap engine; member sums with smaps_rollup (as `top`). */
  uss: number;
  rss: number;
  swap: number;
}

export interface ExportSnapshot {
  /** Milliseconds since the epoch when the measurement started. */
  takenAt: number;
  /** Seconds the measurement took. */
  duration: number;
  engine: EngineName;
  groups: ExportGroup[];
  /** Every measured process taken together: RSS each page once, USS pages only they map (null without frames). */
  machine: { processes: number; pss: number; swap: number; rss: number | null; uss: number | null };
  /** Processes not measured, by reason (kernel threads have no user memory and are left out). */
  unmeasured: Record<SkipReason, number>;
}

export interface ExportOptions {
  procRoot: string;
  engine: EngineChoice;
  by: GroupBy;
  maxGroups: number;
  /** Only these processes (hidden --pid); every process when absent. */
  pids?: readonly number[] | undefined;
  /** The engine's working arrays, kept from one measurement to the next by serve. */
  scratch?: StreamScratch;
}

const REASONS: SkipReason[] = ['denied', 'gone', 'error', 'kernel-thread', 'zombie', 'no-such-process'];

const groupOf = (g: GroupMemory): ExportGroup => ({
  key: g.key,
  processes: g.members,
  pss: g.usage.pss,
  uss: g.usage.uss,
  rss: g.usage.rss,
  swap: g.usage.swap,
});

export const measureExport = (
  options: ExportOptions,
  caps: Capabilities,
  users: UserNames,
): ExportSnapshot => {
  const started = performance.now();
  const { snapshot, frames } = takeStreamedSnapshot(
    {
      procRoot: options.procRoot,
      ...(options.pids ? { pids: options.pids } : {}),
      engine: options.engine,
      // PSS, USS, RSS and swap need no page flags (hugetlb turns them on by itself, as in `top`).
      flags: false,
      cgroups: groupNeedsCgroup(options.by),
    },
    { totals: true, groupBy: options.by, ...(options.scratch ? { scratch: options.scratch } : {}) },
    caps,
    users,
  );
  const exact = frames ? exactFrames(frames, options.procRoot, caps, users) : undefined;
  const all = groupProcesses(snapshot.processes, options.by, exact?.groups);
  // Largest PSS first, ties by name so that repeated scrapes keep the same series.
  const ranked = all
    .filter((g) => g.key !== OTHER_GROUP)
    .sort((a, b) => b.usage.pss - a.usage.pss || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const kept = ranked.slice(0, options.maxGroups);
  const folded = [...ranked.slice(options.maxGroups), ...all.filter((g) => g.key === OTHER_GROUP)];
  const groups = kept.map(groupOf);
  if (folded.length > 0) groups.push(foldOther(folded, exact));
  let pss = 0;
  let swap = 0;
  for (const p of snapshot.processes) {
    pss += p.usage.pss;
    swap += p.usage.swap;
  }
  const machine = {
    processes: snapshot.processes.length,
    pss,
    swap,
    rss: frames?.totals?.rss ?? null,
    uss: frames?.totals?.uss ?? null,
  };
  const unmeasured = Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<SkipReason, number>;
  for (const s of snapshot.skipped) unmeasured[s.reason]++;
  return {
    takenAt: snapshot.takenAt,
    duration: (performance.now() - started) / 1000,
    engine: snapshot.engine,
    groups,
    machine,
    unmeasured,
  };
};

/**
 * "other": PSS and swap are sums; RSS and USS are those of its processes taken together, which takes their
 * pages again (a second stream over just them) unless it is a single group already counted exactly. With
 * the smaps_rollup engine they are member sums, as every group's are.
 */
const foldOther = (
  folded: readonly GroupMemory[],
  exact: ReturnType<typeof exactFrames> | undefined,
): ExportGroup => {
  const sum = (f: (g: GroupMemory) => number) => folded.reduce((s, g) => s + f(g), 0);
  const other: ExportGroup = {
    key: OTHER_GROUP,
    processes: sum((g) => g.members),
    pss: sum((g) => g.usage.pss),
    swap: sum((g) => g.usage.swap),
    rss: sum((g) => g.usage.rss),
    uss: sum((g) => g.usage.uss),
  };
  if (folded.length === 1 && folded[0]!.exact)
    return { ...other, rss: folded[0]!.usage.rss, uss: folded[0]!.usage.uss };
  if (exact) {
    const union = exact.union(folded.flatMap((g) => g.pids));
    return { ...other, rss: union.rss, uss: union.uss };
  }
  return other;
};
