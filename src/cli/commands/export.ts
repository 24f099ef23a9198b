import type { EngineChoice } from '../../engine/types.js';
import { readYamlFile } from '../../export/config-file.js';
import { renderExposition } from '../../export/exposition.js';
import { measureExport } from '../../export/measure.js';
import { exportFamilies } from '../../export/metrics.js';
import { writeFileAtomic } from '../../files/write-atomic.js';
import type { CommandContext } from '../context.js';
import { EXIT_OK, UsageError } from '../errors.js';
import { type GroupingOptions, groupingOf } from '../export-options.js';
import { writeData } from '../io.js';
import { unwritableReason } from '../output-path.js';
import { VERSION } from '../version.js';

export interface ExportCommandOptions extends GroupingOptions {
  output?: string;
  engine: EngineChoice;
  pid?: number[];
}

/** `memusage export`: one exposition (text format 0.0.4, no timestamps) on stdout or into --output. */
export const runExport = (ctx: CommandContext, options: ExportCommandOptions): number => {
  const grouping = groupingOf(options, readYamlFile);
  if (grouping.warning) ctx.io.err(`memusage: warning: ${grouping.warning}\n`);
  if (options.output !== undefined) {
    const why = unwritableReason(options.output);
    if (why) throw new UsageError(`--output: ${why}`);
  }
  const snap = measureExport(
    {
      procRoot: ctx.procRoot,
      engine: options.engine,
      by: grouping.by,
      maxGroups: options.maxGroups,
      pids: options.pid,
    },
    ctx.capabilities(),
    ctx.users(),
  );
  const text = renderExposition(
    exportFamilies(snap, { version: VERSION, age: 0, minInterval: undefined, by: grouping.name }),
    'text',
  );
  if (options.output === undefined || options.output === '-') writeData(ctx.io, text, 'other');
  else writeFileAtomic(options.output, text, 0o644);
  return EXIT_OK;
};
