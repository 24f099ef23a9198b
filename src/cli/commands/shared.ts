import { measureShared } from '../../engine/shared.js';
import { renderSharedCsv, renderSharedJson, renderSharedTable } from '../../view/shared-render.js';
import type { CommandContext } from '../context.js';
import { EXIT_OK, EXIT_PARTIAL, UsageError } from '../errors.js';
import { tableWidth, useColor, writeData } from '../io.js';

export interface SharedCliOptions {
  header: boolean;
  bytes?: boolean;
  json?: boolean;
  csv?: boolean;
  /** -w: whole names on a terminal too. */
  wide?: boolean;
}

/** `memusage shared PID PID...`: exact pages shared among the processes and with everyone else. */
export const runShared = (ctx: CommandContext, pids: number[], o: SharedCliOptions): number => {
  if (o.json && o.csv) throw new UsageError('--json and --csv cannot be combined');
  const unique = [...new Set(pids)];
  if (unique.length < 2) throw new UsageError('shared needs at least two different PIDs');
  const result = measureShared(ctx.procRoot, unique, ctx.capabilities(), ctx.users());
  const { io } = ctx;
  for (const s of result.snapshot.skipped) io.err(`memusage: ${s.message}\n`);
  if (o.json) writeData(io, renderSharedJson(result), 'json');
  else if (o.csv) writeData(io, renderSharedCsv(result), 'csv');
  else if (result.processes.length > 0) {
    io.out(
      renderSharedTable(result, {
        units: o.bytes ? 'bytes' : 'human',
        width: tableWidth(io, o.wide),
        header: o.header,
        color: useColor(io),
      }),
    );
  }
  return result.snapshot.skipped.length > 0 ? EXIT_PARTIAL : EXIT_OK;
};
