import { setTimeout as sleep } from 'node:timers/promises';
import { StreamScratch } from '../../engine/stream-scratch.js';
import type { TopSelection } from '../../view/top-rows.js';
import type { CommandContext } from '../context.js';
import { EXIT_OK } from '../errors.js';
import type { TopOptions } from '../top-options.js';
import { topFrame } from './top.js';

const two = (n: number) => String(n).padStart(2, '0');

/**
 * The line above each table: when its snapshot was taken, local time with the UTC offset (a log read
 * later, or on another machine, still says when), e.g. `--- 2026-11-29 22:30:05 +0100 ---`.
 */
export const watchStampLine = (takenAt: number): string => {
  const d = new Date(takenAt);
  const offset = -d.getTimezoneOffset();
  const zone = `${offset < 0 ? '-' : '+'}${two(Math.floor(Math.abs(offset) / 60))}${two(Math.abs(offset) % 60)}`;
  return `--- ${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${zone} ---\n`;
};

/**
 * `top --watch N`: a new table every N seconds, each under a line with its time, separated by a blank
 * line, until interrupted. JSON and CSV get no such line (it would break their parsers; JSON has takenAt).
 */
export const runTopWatch = async (
  ctx: CommandContext,
  selection: TopSelection,
  options: TopOptions,
  seconds: number,
  signal: AbortSignal = interruptSignal(),
): Promise<number> => {
  const users = ctx.users();
  // Table after table in the same arrays: see StreamScratch.
  const scratch = new StreamScratch();
  let first = true;
  while (!signal.aborted) {
    const started = Date.now();
    const frame = topFrame(ctx, selection, options, users, scratch);
    if (!first) ctx.io.out('\n');
    if (!options.json && !options.csv) ctx.io.out(watchStampLine(frame.snapshot.takenAt));
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
