import { setTimeout as sleep } from 'node:timers/promises';
import type { TopSelection } from '../../view/top-rows.js';
import type { CommandContext } from '../context.js';
import { EXIT_OK } from '../errors.js';
import type { TopOptions } from '../top-options.js';
import { topFrame } from './top.js';

/** `top --watch N`: a new table every N seconds, separated by a blank line, until interrupted. */
export const runTopWatch = async (
  ctx: CommandContext,
  selection: TopSelection,
  options: TopOptions,
  seconds: number,
  signal: AbortSignal = interruptSignal(),
): Promise<number> => {
  const users = ctx.users();
  let first = true;
  while (!signal.aborted) {
    const started = Date.now();
    const frame = topFrame(ctx, selection, options, users);
    if (!first) ctx.io.out('\n');
    ctx.io.out(frame.text);
    if (first) for (const line of frame.status) ctx.io.err(`${line}\n`);
    first = false;
    try {
      await sleep(Math.max(0, seconds * 1000 - (Date.now() - started)), undefined, { signal });
    } catch {
      break; // Interrupted while waiting: the last table is complete, so this is a normal end.
    }
  }
  return EXIT_OK;
};

/** Aborts on Ctrl-C or SIGTERM so the loop ends between tables, never in the middle of one. */
const interruptSignal = (): AbortSignal => {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return controller.signal;
};
