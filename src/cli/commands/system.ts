import { measureSystem } from '../../engine/system.js';
import type { EngineChoice } from '../../engine/types.js';
import { renderSystemCsv, renderSystemJson, renderSystemTable } from '../../view/system-render.js';
import type { CommandContext } from '../context.js';
import { EXIT_OK, UsageError } from '../errors.js';
import { tableWidth, useColor, writeData } from '../io.js';

export interface SystemCliOptions {
  header: boolean;
  bytes?: boolean;
  json?: boolean;
  csv?: boolean;
  /** -w: whole names on a terminal too. */
  wide?: boolean;
  engine: EngineChoice;
}

/** `memusage system`: the machine's RAM, every part accounted, summing to MemTotal. */
export const runSystem = (ctx: CommandContext, o: SystemCliOptions): number => {
  if (o.json && o.csv) throw new UsageError('--json and --csv cannot be combined');
  const result = measureSystem({ procRoot: ctx.procRoot, engine: o.engine }, ctx.capabilities(), ctx.users());
  const { io } = ctx;
  if (o.json) writeData(io, renderSystemJson(result), 'json');
  else if (o.csv) writeData(io, renderSystemCsv(result), 'csv');
  else {
    io.out(
      renderSystemTable(result, {
        units: o.bytes ? 'bytes' : 'human',
        width: tableWidth(io, o.wide),
        header: o.header,
        color: useColor(io),
      }),
    );
  }
  return EXIT_OK;
};
