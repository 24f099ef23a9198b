import { CommandStartError, measure } from '../../api/measure.js';
import type { EngineChoice } from '../../engine/types.js';
import type { WssMethodChoice } from '../../engine/wss.js';
import { renderRunSvg } from '../../view/chart-svg.js';
import { toCsv } from '../../view/csv.js';
import { toJson } from '../../view/records.js';
import { RUN_CSV_COLUMNS, runCsvRows } from '../../view/run-records.js';
import { renderRunSummary } from '../../view/run-summary.js';
import type { CommandContext } from '../context.js';
import { EXIT_FAILURE, UsageError } from '../errors.js';
import { writeOutput } from '../write-file.js';

export interface RunOptions {
  interval: number;
  cpuBudget: number;
  wss?: boolean;
  wssInterval: number;
  wssMethod: WssMethodChoice;
  engine: EngineChoice;
  json?: string;
  csv?: string;
  plot?: string;
  bytes?: boolean;
  sysRoot?: string;
}

/** Like a shell: 127 when the command is not found, 126 when it cannot be executed. */
const startFailureStatus = (error: CommandStartError): number => (error.code === 'ENOENT' ? 127 : 126);

/** `memusage run -- CMD...`: measure a command's whole process tree while it runs; exit with its status. */
export const runRun = async (
  ctx: CommandContext,
  command: string[],
  options: RunOptions,
): Promise<number> => {
  if (command.length === 0)
    throw new UsageError('run needs a command: memusage run [options] -- CMD [ARGS...]');
  const { io } = ctx;
  let record: Awaited<ReturnType<typeof measure>>;
  try {
    record = await measure(
      { command },
      {
        procRoot: ctx.procRoot,
        sysRoot: ctx.sysRoot(options.sysRoot),
        intervalMs: options.interval * 1000,
        cpuBudget: options.cpuBudget / 100,
        engine: options.engine,
        wss: options.wss ?? false,
        wssIntervalMs: options.wssInterval * 1000,
        wssMethod: options.wssMethod,
        forwardSignals: true,
      },
    );
  } catch (error) {
    if (!(error instanceof CommandStartError)) throw error;
    io.err(`memusage: ${error.message}\n`);
    return startFailureStatus(error);
  }
  const mode = options.bytes ? 'bytes' : 'human';
  io.err(renderRunSummary(record, { mode, chart: io.stderrIsTTY, width: io.columns }));
  const failures = [
    options.json === undefined ? undefined : writeOutput(io, options.json, toJson(record), 'json'),
    options.csv === undefined
      ? undefined
      : writeOutput(io, options.csv, toCsv(RUN_CSV_COLUMNS, runCsvRows(record)), 'csv'),
    options.plot === undefined ? undefined : writeOutput(io, options.plot, renderRunSvg(record), 'other'),
  ].filter((f) => f !== undefined);
  for (const f of failures) io.err(`memusage: ${f}\n`);
  const status = record.exit?.status ?? EXIT_FAILURE;
  return failures.length > 0 && status === 0 ? EXIT_FAILURE : status;
};
