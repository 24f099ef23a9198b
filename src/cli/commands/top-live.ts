import { StreamScratch } from '../../engine/stream-scratch.js';
import { composeScreen, ENTER_SCREEN, LEAVE_SCREEN, liveScreen } from '../../view/live.js';
import { decodeKeys } from '../../view/live-keys.js';
import { initialView, pressKey, type Viewport } from '../../view/live-state.js';
import type { TopSelection } from '../../view/top-rows.js';
import type { CommandContext } from '../context.js';
import { EXIT_OK } from '../errors.js';
import { type LiveTerminal, useColor } from '../io.js';
import type { TopOptions } from '../top-options.js';
import { measureTop, statusLines, type TopMeasurement } from './top.js';

/** ▼ and ▲ only where the locale says UTF-8 and NO_COLOR does not ask for plain output. */
const unicodeTerminal = (env: Readonly<Record<string, string | undefined>>): boolean =>
  !env.NO_COLOR && /utf-?8/i.test(env.LC_ALL || env.LC_CTYPE || env.LANG || '');

/**
 * `memusage top` on a terminal: redraw in place every interval on the alternate screen; keys change the
 * order, scroll, filter and show help (view/live-state.ts). The terminal is restored on q, Ctrl-C,
 * SIGINT/SIGTERM/SIGHUP and when measuring throws.
 */
export const runTopLive = (
  ctx: CommandContext,
  selection: TopSelection,
  options: TopOptions,
  terminal: LiveTerminal,
): Promise<number> =>
  new Promise((resolve, reject) => {
    const users = ctx.users();
    // Refresh after refresh in the same arrays: see StreamScratch.
    const scratch = new StreamScratch();
    let view = initialView(selection.sort, selection.reverse);
    // Where the rows stood at the last draw: the scrolling keys move within it.
    let viewport: Viewport = { fit: 1, matched: 0 };
    let last: TopMeasurement | undefined;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const undo: (() => void)[] = [];

    const draw = () => {
      if (!last) return;
      const drawn = liveScreen({
        ...last,
        selection: { ...selection, sort: view.sort, reverse: view.reverse },
        view,
        notes: statusLines(last.snapshot, false).slice(1),
        intervalSeconds: options.interval,
        table: { units: options.bytes ? 'bytes' : 'human', header: options.header, totals: options.totals },
        size: terminal.size(),
        color: useColor(ctx.io),
        unicode: unicodeTerminal(ctx.io.env),
      });
      view = { ...view, first: drawn.first };
      viewport = { fit: drawn.fit, matched: drawn.matched };
      ctx.io.out(drawn.screen);
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
      last = measureTop(
        ctx,
        { ...selection, sort: view.sort, reverse: view.reverse },
        options,
        users,
        scratch,
      );
      draw();
      timer = setTimeout(tick, Math.max(0, options.interval * 1000 - (Date.now() - started)));
    });

    const onKey = (chunk: string) =>
      guard(() => {
        for (const key of decodeKeys(chunk)) {
          if (done) return;
          const next = pressKey(view, key, selection.columns, viewport);
          view = next.view;
          if (next.action === 'quit') finish();
          else if (next.action === 'refresh') tick();
          else if (next.action === 'draw') draw();
        }
      })();

    // A whole-system snapshot can take a second on a busy machine: say so instead of a blank screen.
    ctx.io.out(`${ENTER_SCREEN}${composeScreen(['memusage top  measuring...'], '', terminal.size(), false)}`);
    undo.push(terminal.onKey(onKey));
    undo.push(terminal.onResize(guard(draw)));
    undo.push(terminal.onInterrupt(() => finish()));
    tick();
  });
