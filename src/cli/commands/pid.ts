import { USAGE_KEYS } from '../../account/usage.js';
import { measuredPid } from '../../engine/requested-pids.js';
import { takeStreamedSnapshot } from '../../engine/snapshot.js';
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
  quiet?: boolean;
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
  // Flags are only read when the report shows the file/shmem split. The engine measures each process once,
  // a thread's ID as its process (see engine/requested-pids.ts).
  // A capture keeps what every view needs, whatever this report shows.
  const flags = only.length === 0 || ctx.recorder !== undefined;
  const { snapshot } = takeStreamedSnapshot(
    { procRoot: ctx.procRoot, pids, engine: options.engine, flags, swapPss: flags },
    ctx.recorder ? { recorder: ctx.recorder } : {},
    ctx.capabilities(),
    ctx.users(),
  );
  const byPid = new Map(snapshot.processes.map((p) => [p.pid, p]));
  const measured = snapshot.processes;
  const { io } = ctx;
  // The engine line and notes go to stderr, as for every other command; what was not measured is an error.
  const info = options.quiet ? [] : [snapshot.engineReason, ...snapshot.notes.map((n) => `note: ${n}`)];
  for (const line of [...info, ...snapshot.skipped.map((s) => s.message)]) io.err(`memusage: ${line}\n`);

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
    // One line per PID argument, in order, so that line N is always the Nth PID's: "-" where it was not
    // measured (the exit status is then 3).
    for (const id of pids) {
      const p = byPid.get(measuredPid(snapshot.threads ?? [], id));
      io.out(`${only.map((k) => (p ? formatBytes(p.usage[k], mode) : '-')).join(' ')}\n`);
    }
  } else {
    io.out(renderPidReport(measured, options.bytes ? 'bytes' : 'human'));
  }
  return snapshot.skipped.length > 0 ? EXIT_PARTIAL : EXIT_OK;
};
