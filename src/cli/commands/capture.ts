import type { CaptureRecorder } from '../../capture/recorder.js';
import { takeStreamedSnapshot } from '../../engine/snapshot.js';
import type { CommandContext } from '../context.js';
import { EXIT_OK } from '../errors.js';
import { statusLines } from './top.js';

/**
 * `memusage capture FILE`: the snapshot `top --once --capture FILE` takes, without the table: every
 * process, with what each view needs (flags, SwapPss, MemTotal) read.
 */
export const runCapture = (ctx: CommandContext, recorder: CaptureRecorder, quiet: boolean): number => {
  const { snapshot } = takeStreamedSnapshot(
    { procRoot: ctx.procRoot, engine: 'pagemap', flags: true, swapPss: true, memTotal: true },
    { recorder },
    ctx.capabilities(),
    ctx.users(),
  );
  for (const line of statusLines(snapshot, false, false, quiet)) ctx.io.err(`memusage: ${line}\n`);
  return EXIT_OK;
};
