import { USAGE_KEYS } from '../../account/usage.js';
import { takeDetailedSnapshot } from '../../engine/snapshot.js';
import type { EngineChoice } from '../../engine/types.js';
import { toCsv } from '../../view/csv.js';
import { renderPidReport } from '../../view/pid-report.js';
import { processRecord, snapshotDocument, toJson } from '../../view/records.js';
import { formatBytes } from '../../view/units.js';
import type { CommandContext } from '../context.js';
import { EXIT_OK, EXIT_PARTIAL, UsageError } from '../errors.js';
import { writeData } from '../io.js';

export interface PidOptions {
  rss?: boolean;
  pss?: boolean;
  uss?: boolean;
  swap?: boolean;
  bytes?: boolean;
  json?: boolean;
  csv?: boolean;
  engine: EngineChoice;
}

/** CSV columns: who, then the four headline sizes, then every other MemUsage field in its own order. */
const HEADLINE = ['rss', 'pss', 'uss', 'swap'] as const;
const CSV_COLUMNS = [
  'pid',
  'ppid',
  'user',
  'name',
  ...HEADLINE,
  ...USAGE_KEYS.filter((k) => !(HEADLINE as readonly string[]).includes(k)),
  'source',
  'cmdline',
] as const;

/** `memusage pid PID...`: exact usage of the given processes. */
export const runPid = (ctx: CommandContext, pids: number[], options: PidOptions): number => {
  if (options.json && options.csv) throw new UsageError('--json and --csv cannot be combined');
  const only = HEADLINE.filter((k) => options[k]);
  if (only.length > 0 && (options.json || options.csv)) {
    throw new UsageError(`--${only[0]} prints bare numbers and cannot be combined with --json or --csv`);
  }
  const unique = [...new Set(pids)];
  // Flags are only read when the report shows the file/shmem split.
  const flags = only.length === 0;
  const { snapshot } = takeDetailedSnapshot(
    { procRoot: ctx.procRoot, pids: unique, engine: options.engine, flags },
    ctx.capabilities(),
    ctx.users(),
  );
  const byPid = new Map(snapshot.processes.map((p) => [p.pid, p]));
  const measured = unique.flatMap((pid) => byPid.get(pid) ?? []);
  const { io } = ctx;
  for (const s of snapshot.skipped) io.err(`memusage: ${s.message}\n`);

  if (options.json) {
    writeData(io, toJson(snapshotDocument(snapshot, measured)), 'json');
  } else if (options.csv) {
    const rows = measured.map((p) => {
      const r = processRecord(p);
      return CSV_COLUMNS.map((c) => r[c]);
    });
    writeData(io, toCsv(CSV_COLUMNS, rows), 'csv');
  } else if (only.length > 0) {
    const mode = options.bytes ? 'bytes' : 'kib';
    for (const p of measured) io.out(`${only.map((k) => formatBytes(p.usage[k], mode)).join(' ')}\n`);
  } else {
    io.out(renderPidReport(snapshot, measured, options.bytes ? 'bytes' : 'human'));
  }
  return snapshot.skipped.length > 0 ? EXIT_PARTIAL : EXIT_OK;
};
