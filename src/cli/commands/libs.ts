import { measureLibs } from '../../engine/libs.js';
import {
  LIBS_SORT_KEYS,
  renderLibsCsv,
  renderLibsJson,
  renderLibsTable,
  selectFiles,
} from '../../view/libs-render.js';
import type { CommandContext } from '../context.js';
import { EXIT_OK, UsageError } from '../errors.js';
import { tableWidth, useColor, writeData } from '../io.js';
import { parseRegexOption } from '../parse-options.js';
import { smapsNote, sortKey } from './maps.js';

export interface LibsCliOptions {
  process?: string;
  lib?: string;
  detail?: boolean;
  sort: string;
  reverse?: boolean;
  limit?: number;
  header: boolean;
  bytes?: boolean;
  json?: boolean;
  csv?: boolean;
  /** -w: whole names on a terminal too. */
  wide?: boolean;
}

/** `memusage libs`: every mapped file across processes, librank-style. */
export const runLibs = (ctx: CommandContext, o: LibsCliOptions): number => {
  if (o.json && o.csv) throw new UsageError('--json and --csv cannot be combined');
  const key = sortKey(o.sort, LIBS_SORT_KEYS);
  const process = parseRegexOption('--process', o.process);
  const lib = parseRegexOption('--lib', o.lib);
  const result = measureLibs(
    { procRoot: ctx.procRoot, ...(process ? { process } : {}), ...(lib ? { lib } : {}) },
    ctx.capabilities(),
    ctx.users(),
  );
  const files = selectFiles(result.files, key, o.reverse === true, o.limit);
  const { io } = ctx;
  // smaps numbers carry caveats; --json has them in engineReason and notes.
  if (result.snapshot.engine === 'smaps' && !o.json) smapsNote(ctx, result.snapshot);
  if (o.json) writeData(io, renderLibsJson(result, files), 'json');
  else if (o.csv) writeData(io, renderLibsCsv(files, o.detail === true), 'csv');
  else {
    io.out(
      renderLibsTable(files, {
        units: o.bytes ? 'bytes' : 'human',
        detail: o.detail === true,
        width: tableWidth(io, o.wide),
        header: o.header,
        color: useColor(io),
      }),
    );
    if (result.snapshot.engine !== 'smaps') io.err(`memusage: ${result.snapshot.engineReason}\n`);
  }
  return EXIT_OK;
};
