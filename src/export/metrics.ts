/** The exporter's metric families from one measurement: names, HELP and values, pure. */
import type { Family } from './exposition.js';
import type { ExportGroup, ExportSnapshot } from './measure.js';

export interface MetricsContext {
  version: string;
  /** Seconds since the measurement ended, when it is served later (serve); 0 for export. */
  age: number;
  /** serve's --min-interval in seconds (0: every scrape measures, except concurrent ones, which share). */
  minInterval: number | undefined;
  /** What the groups are: "command", "user", "cgroup", "unit" or "rules". */
  by: string;
}

const perGroup = (
  snap: ExportSnapshot,
  name: string,
  help: string,
  get: (g: ExportGroup) => number,
  unit?: 'bytes',
): Family => ({
  name,
  help,
  type: 'gauge',
  ...(unit ? { unit } : {}),
  samples: snap.groups.map((g) => ({ labels: { group: g.key }, value: get(g) })),
});

export const exportFamilies = (snap: ExportSnapshot, ctx: MetricsContext): Family[] => {
  const exact = snap.engine === 'pagemap';
  const how = exact ? '' : ' (smaps_rollup engine: a sum over its processes, not exact)';
  const reuse =
    ctx.minInterval === undefined
      ? ''
      : ctx.minInterval > 0
        ? ` A snapshot is reused for scrapes within ${ctx.minInterval} s of it (--min-interval) and by scrapes that arrive while it is taken.`
        : ' Scrapes that arrive while a snapshot is taken share it.';
  const families: Family[] = [
    perGroup(
      snap,
      'memusage_group_pss_bytes',
      `Proportional set size of the processes of each group (--by ${ctx.by}): each page divided by its mappings. Groups sum to memusage_machine_pss_bytes.`,
      (g) => g.pss,
      'bytes',
    ),
    perGroup(
      snap,
      'memusage_group_uss_bytes',
      `Unique set size of each group: pages mapped only inside the group, what ending every process of it would free${how}.`,
      (g) => g.uss,
      'bytes',
    ),
    perGroup(
      snap,
      'memusage_group_rss_bytes',
      `Resident set size of each group, each physical page once${how}. Does not sum across groups: a page shared by two groups is in both.`,
      (g) => g.rss,
      'bytes',
    ),
    perGroup(
      snap,
      'memusage_group_swap_bytes',
      'Pages of each group in swap devices.',
      (g) => g.swap,
      'bytes',
    ),
    perGroup(snap, 'memusage_group_processes', 'Processes measured in each group.', (g) => g.processes),
  ];
  const machine: Family[] = [
    {
      name: 'memusage_machine_pss_bytes',
      help: 'Proportional set size of every measured process (kernel threads have none).',
      type: 'gauge',
      unit: 'bytes',
      samples: [{ value: snap.machine.pss }],
    },
  ];
  if (snap.machine.rss !== null)
    machine.push({
      name: 'memusage_machine_rss_bytes',
      help: 'Resident set size of every measured process taken together, each physical page once.',
      type: 'gauge',
      unit: 'bytes',
      samples: [{ value: snap.machine.rss }],
    });
  if (snap.machine.uss !== null)
    machine.push({
      name: 'memusage_machine_uss_bytes',
      help: 'Pages mapped only by measured processes (none by a process memusage could not read).',
      type: 'gauge',
      unit: 'bytes',
      samples: [{ value: snap.machine.uss }],
    });
  machine.push(
    {
      name: 'memusage_machine_swap_bytes',
      help: 'Pages of every measured process in swap devices.',
      type: 'gauge',
      unit: 'bytes',
      samples: [{ value: snap.machine.swap }],
    },
    {
      name: 'memusage_machine_processes',
      help: 'Processes measured.',
      type: 'gauge',
      samples: [{ value: snap.machine.processes }],
    },
    {
      name: 'memusage_unmeasured_processes',
      help: 'Processes not measured, by reason: denied (not readable), gone (exited while measured), error, kernel-thread and zombie (no user memory).',
      type: 'gauge',
      samples: Object.entries(snap.unmeasured)
        .filter(([reason]) => reason !== 'no-such-process')
        .map(([reason, value]) => ({ labels: { reason }, value })),
    },
    {
      name: 'memusage_scrape_duration_seconds',
      help: 'Seconds the snapshot these values come from took to measure.',
      type: 'gauge',
      unit: 'seconds',
      samples: [{ value: round(snap.duration) }],
    },
    {
      name: 'memusage_snapshot_age_seconds',
      help: `Seconds between the end of the snapshot these values come from and this exposition.${reuse}`,
      type: 'gauge',
      unit: 'seconds',
      samples: [{ value: round(ctx.age) }],
    },
    {
      name: 'memusage_build',
      help: 'memusage version, and the engine that measured: pagemap (exact, root) or smaps_rollup (per-process sums).',
      type: 'info',
      samples: [{ labels: { version: ctx.version, engine: snap.engine }, value: 1 }],
    },
  );
  return [...families, ...machine];
};

/** Microseconds are plenty; keeps the exposition free of float noise. */
const round = (seconds: number): number => Math.round(seconds * 1e6) / 1e6;
