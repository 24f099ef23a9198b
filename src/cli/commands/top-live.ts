import { composeScreen, ENTER_SCREEN, LEAVE_SCREEN, liveScreen, stepSortColumn } from '../../view/live.js';
import type { TopSelection } from '../../view/top-rows.js';
import type { CommandContext } from '../context.js';
import { EXIT_OK } from '../errors.js';
import { type LiveTerminal, useColor } from '../io.js';
import type { TopOptions } from '../top-options.js';
import { measureTop, statusLines, type TopMeasurement } from './top.js';

/**
 * `memusage top` on a terminal: redraw in place every interval on the alternate screen; keys change the
 * order. The terminal is restored on q, Ctrl-C, SIGINT/SIGTERM/SIGHUP and when measuring throws.
 */
export const runTopLive = (
  ctx: CommandContext,
  selection: TopSelection,
  options: TopOptions,
  terminal: LiveTerminal,
): Promise<number> =>
  new Promise((resolve, reject) => {
    const users = ctx.users();
    let view = { sort: selection.sort, reverse: selection.reverse };
    let last: TopMeasurement | undefined;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const undo: (() => void)[] = [];

    const draw = () => {
      if (!last) return;
      ctx.io.out(
        liveScreen({
          ...last,
          selection: { ...selection, ...view },
          notes: statusLines(last.snapshot, false).slice(1),
          intervalSeconds: options.interval,
          table: { units: options.bytes ? 'bytes' : 'human', header: options.header, totals: options.totals },
          size: terminal.size(),
          color: useColor(ctx.io),
        }),
      );
    };

    const finish = (error?: unknown) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const u of undo.reverse()) u();
      ctx.io.out(LEAVE_SCREEN);
      if (error === undefined) resolve(EXIT_OK);
      else reject(error);
    };

    // Every callback runs through guard: an exception restores the terminal, then reaches main.ts.
    const guard = (f: () => void) => () => {
      try {
        f();
      } catch (error) {
        finish(error);
      }
    };

    const tick = guard(() => {
      clearTimeout(timer);
      const started = Date.now();
      last = measureTop(ctx, { ...selection, ...view }, options, users);
      draw();
      timer = setTimeout(tick, Math.max(0, options.interval * 1000 - (Date.now() - started)));
    });

    const onKey = (key: string) =>
      guard(() => {
        // Escape sequences (arrows, function keys) are not bound; ignore them whole.
        if (key.startsWith('\u001b')) return;
        for (const ch of key) {
          if (done) return;
          if (ch === 'q' || ch === 'Q' || ch === '\u0003') finish();
          else if (ch === 's' || ch === '>')
            view = { ...view, sort: stepSortColumn(selection.columns, view.sort, 1) };
          else if (ch === '<') view = { ...view, sort: stepSortColumn(selection.columns, view.sort, -1) };
          else if (ch === 'r' || ch === 'R') view = { ...view, reverse: !view.reverse };
          else if (ch === ' ') return tick();
          else continue;
          if (!done) draw();
        }
      })();

    // A whole-system snapshot can take a second on a busy machine: say so instead of a blank screen.
    ctx.io.out(`${ENTER_SCREEN}${composeScreen(['memusage top  measuring...'], '', terminal.size(), false)}`);
    undo.push(terminal.onKey(onKey));
    undo.push(terminal.onResize(guard(draw)));
    undo.push(terminal.onInterrupt(() => finish()));
    tick();
  });
