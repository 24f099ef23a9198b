import { measureMaps } from '../../engine/maps.js';
import type { EngineChoice, Snapshot } from '../../engine/types.js';
import {
  MAPS_SORT_KEYS,
  type MapsSortKey,
  renderMapsCsv,
  renderMapsJson,
  renderMapsTable,
  selectMappingRows,
} from '../../view/maps-render.js';
import type { CommandContext } from '../context.js';
import { EXIT_OK, EXIT_PARTIAL, UsageError } from '../errors.js';
import { tableWidth, useColor, writeData } from '../io.js';

export interface MapsCliOptions {
  all?: boolean;
  flags?: boolean;
  sort?: string;
  reverse?: boolean;
  limit?: number;
  header: boolean;
  bytes?: boolean;
  json?: boolean;
  csv?: boolean;
  /** -w: whole names on a terminal too. */
  wide?: boolean;
  engine: EngineChoice;
}

/** Validate a --sort key against a command's list (shared by maps, libs and shared). */
export const sortKey = <K extends string>(given: string, known: readonly K[]): K => {
  const key = known.find((k) => k === given.toLowerCase());
  if (!key) throw new UsageError(`unknown sort key '${given}' (known: ${known.join(', ')})`);
  return key;
};

/** Where smaps-engine numbers come from, on stderr (shared by maps and libs). */
export const smapsNote = (ctx: CommandContext, snapshot: Snapshot): void => {
  ctx.io.err(`memusage: ${snapshot.engineReason}\n`);
  for (const note of snapshot.notes) ctx.io.err(`memusage: note: ${note}\n`);
};

/** `memusage maps PID`: the process's memory by mapping, rows summing to its total. */
export const runMaps = (ctx: CommandContext, pid: number, o: MapsCliOptions): number => {
  if (o.json && o.csv) throw new UsageError('--json and --csv cannot be combined');
  const key: MapsSortKey = sortKey(o.sort ?? (o.all ? 'address' : 'pss'), MAPS_SORT_KEYS);
  const result = measureMaps(
    { procRoot: ctx.procRoot, pid, engine: o.engine, all: o.all === true, flags: o.flags === true },
    ctx.capabilities(),
    ctx.users(),
  );
  const { io } = ctx;
  for (const s of result.snapshot.skipped) io.err(`memusage: ${s.message}\n`);
  if (!result.process) return EXIT_PARTIAL;
  // The pagemap engine's rows need no caveat; smaps' do, and --json carries them in engineReason and notes.
  if (result.snapshot.engine === 'smaps' && !o.json) smapsNote(ctx, result.snapshot);
  const rows = selectMappingRows(result.rows, key, o.reverse === true, o.limit);
  if (o.json) writeData(io, renderMapsJson(result, rows), 'json');
  else if (o.csv) writeData(io, renderMapsCsv(rows, o.flags === true), 'csv');
  else {
    io.out(
      renderMapsTable(result, rows, {
        units: o.bytes ? 'bytes' : 'human',
        all: o.all === true,
        flags: o.flags === true,
        width: tableWidth(io, o.wide),
        header: o.header,
        color: useColor(io),
      }),
    );
  }
  return EXIT_OK;
};
