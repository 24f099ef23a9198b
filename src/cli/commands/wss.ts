import type { WssMethodChoice } from '../../engine/wss.js';
import { systemClock } from '../../sample/clock.js';
import { workingSetSeries } from '../../sample/wss-series.js';
import { toCsv } from '../../view/csv.js';
import { toJson } from '../../view/records.js';
import {
  renderWssRows,
  WSS_CSV_COLUMNS,
  WSS_HEADER,
  wssCsvRows,
  wssMethodLine,
} from '../../view/wss-render.js';
import type { CommandContext } from '../context.js';
import { EXIT_OK, EXIT_PARTIAL, UsageError } from '../errors.js';
import { writeData } from '../io.js';

export interface WssOptions {
  interval: number;
  count?: number;
  anon?: boolean;
  file?: boolean;
  method: WssMethodChoice;
  maps?: boolean;
  json?: boolean;
  csv?: boolean;
  bytes?: boolean;
  sysRoot?: string;
}

/** `memusage wss PID...`: bytes each process touches per interval (writes clear_refs, see --help). */
export const runWss = async (
  ctx: CommandContext,
  pids: number[],
  options: WssOptions,
  signal: AbortSignal,
): Promise<number> => {
  if (options.json && options.csv) throw new UsageError('--json and --csv cannot be combined');
  if (options.anon && options.file) throw new UsageError('--anon and --file cannot be combined');
  const { io } = ctx;
  const mode = options.bytes ? 'bytes' : 'human';
  const intervalMs = options.interval * 1000;
  let method = '';
  let csvHeader = true;
  const record = await workingSetSeries(pids, {
    procRoot: ctx.procRoot,
    sysRoot: ctx.sysRoot(options.sysRoot),
    method: options.method,
    scope: options.anon ? 'anon' : options.file ? 'file' : 'all',
    intervalMs,
    count: options.count,
    maps: options.maps ?? false,
    caps: ctx.capabilities(),
    clock: systemClock,
    signal,
    onStart: (chosen, reason, skipped) => {
      method = chosen;
      for (const s of skipped) io.err(`memusage: ${s.message}\n`);
      if (!options.json && !options.csv) io.out(wssMethodLine(chosen, reason, intervalMs) + WSS_HEADER);
    },
    onSample: (rows, skipped) => {
      for (const s of skipped) io.err(`memusage: ${s.message}\n`);
      if (options.json) return;
      if (!options.csv) return io.out(renderWssRows(rows, mode));
      const csv = toCsv(WSS_CSV_COLUMNS, wssCsvRows(method, rows));
      writeData(io, csvHeader ? csv : csv.slice(csv.indexOf('\n') + 1), 'csv');
      csvHeader = false;
    },
  });
  if (options.json) writeData(io, toJson(record), 'json');
  else if (options.csv && csvHeader) io.out(toCsv(WSS_CSV_COLUMNS, []));
  return record.skipped.length > 0 ? EXIT_PARTIAL : EXIT_OK;
};
