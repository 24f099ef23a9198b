import { CommandStartError, type MeasureOptions, measure } from '../../api/measure.js';
import type { EngineChoice } from '../../engine/types.js';
import type { WssMethodChoice } from '../../engine/wss.js';
import { renderRunSvg } from '../../view/chart-svg.js';
import { toCsv } from '../../view/csv.js';
import { toJson } from '../../view/records.js';
import { RUN_CSV_COLUMNS, RUNS_CSV_COLUMNS, runCsvRows, runsCsvRows } from '../../view/run-records.js';
import { renderRunSummary } from '../../view/run-summary.js';
import { renderRunsSummary } from '../../view/runs-summary.js';
import type { CommandContext } from '../context.js';
import { EXIT_FAILURE, UsageError } from '../errors.js';
import { samePath, unwritableReason } from '../output-path.js';
import { writeOutput } from '../write-file.js';

export interface RunOptions {
  interval: number;
  cpuBudget: number;
  wss?: boolean;
  wssInterval: number;
  wssMethod: WssMethodChoice;
  engine: EngineChoice;
  /** true: the option without a file, i.e. stdout, like '-'. */
  json?: string | true;
  csv?: string | true;
  plot?: string;
  bytes?: boolean;
  sysRoot?: string;
  runs?: number;
  warmup?: number;
  /** false with --no-trace. */
  trace?: boolean;
}

/** Like a shell: 127 when the command is not found, 126 when it cannot be executed. */
const startFailureStatus = (error: CommandStartError): number => (error.code === 'ENOENT' ? 127 : 126);

interface Outputs {
  json?: string;
  csv?: string;
  plot?: string;
}

/**
 * The report files, checked before the command starts: a bad path must not cost the user a whole run nor
 * lose the command's status. '-' is stdout, which can carry one report only.
 */
const checkOutputs = (options: RunOptions): Outputs => {
  const outputs: Outputs = {
    ...(options.json === undefined ? {} : { json: options.json === true ? '-' : options.json }),
    ...(options.csv === undefined ? {} : { csv: options.csv === true ? '-' : options.csv }),
    ...(options.plot === undefined ? {} : { plot: options.plot }),
  };
  const named = Object.entries(outputs) as [keyof Outputs, string][];
  const toStdout = named.filter(([, path]) => path === '-').map(([option]) => `--${option}`);
  if (toStdout.length === 2)
    throw new UsageError(`${toStdout.join(' and ')} cannot both write to stdout; give one of them a file`);
  if (outputs.plot !== undefined && (options.runs !== undefined || options.warmup !== undefined))
    throw new UsageError('--plot draws one run; it cannot be used with --runs or --warmup');
  if (toStdout.length > 2)
    throw new UsageError(`${toStdout.join(', ')} cannot all write to stdout; give all but one a file`);
  for (const [option, path] of named) {
    const reason = unwritableReason(path);
    if (reason !== undefined) throw new UsageError(`--${option} ${path}: cannot write: ${reason}`);
  }
  for (const [i, [option, path]] of named.entries()) {
    const other = named.slice(i + 1).find(([, p]) => p !== '-' && samePath(p, path));
    if (other) throw new UsageError(`--${option} and --${other[0]} both write ${path}`);
  }
  return outputs;
};

/** `memusage run -- CMD...`: measure a command's whole process tree while it runs; exit with its status. */
export const runRun = async (
  ctx: CommandContext,
  command: string[],
  options: RunOptions,
): Promise<number> => {
  if (command.length === 0)
    throw new UsageError('run needs a command: memusage run [options] -- CMD [ARGS...]');
  const outputs = checkOutputs(options);
  const { io } = ctx;
  const reportToStdout = Object.values(outputs).includes('-');
  const common: Omit<MeasureOptions, 'runs' | 'warmup'> = {
    procRoot: ctx.procRoot,
    sysRoot: ctx.sysRoot(options.sysRoot),
    intervalMs: options.interval * 1000,
    cpuBudget: options.cpuBudget / 100,
    engine: options.engine,
    wss: options.wss ?? false,
    wssIntervalMs: options.wssInterval * 1000,
    wssMethod: options.wssMethod,
    trace: options.trace ?? true,
    forwardSignals: true,
    // The report owns stdout: the command's output still reaches the user, on stderr.
    stdio: reportToStdout ? 'stdout-to-stderr' : 'inherit',
  };
  const mode = options.bytes ? 'bytes' : 'human';
  let failures: string[];
  let status: number;
  try {
    if (options.runs !== undefined || options.warmup !== undefined) {
      const record = await measure(
        { command },
        { ...common, runs: options.runs ?? 1, warmup: options.warmup ?? 0 },
      );
      io.err(renderRunsSummary(record, mode));
      failures = [
        outputs.json === undefined ? undefined : writeOutput(io, outputs.json, toJson(record), 'json'),
        outputs.csv === undefined
          ? undefined
          : writeOutput(io, outputs.csv, toCsv(RUNS_CSV_COLUMNS, runsCsvRows(record)), 'csv'),
      ].filter((f) => f !== undefined);
      status = record.exit?.status ?? EXIT_FAILURE;
    } else {
      const record = await measure({ command }, common);
      io.err(renderRunSummary(record, { mode, chart: io.stderrIsTTY, width: io.columns }));
      failures = [
        outputs.json === undefined ? undefined : writeOutput(io, outputs.json, toJson(record), 'json'),
        outputs.csv === undefined
          ? undefined
          : writeOutput(io, outputs.csv, toCsv(RUN_CSV_COLUMNS, runCsvRows(record)), 'csv'),
        outputs.plot === undefined ? undefined : writeOutput(io, outputs.plot, renderRunSvg(record), 'other'),
      ].filter((f) => f !== undefined);
      status = record.exit?.status ?? EXIT_FAILURE;
    }
  } catch (error) {
    if (!(error instanceof CommandStartError)) throw error;
    io.err(`memusage: ${error.message}\n`);
    return startFailureStatus(error);
  }
  for (const f of failures) io.err(`memusage: ${f}\n`);
  return failures.length > 0 && status === 0 ? EXIT_FAILURE : status;
};
