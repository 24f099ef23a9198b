import { zeroUsage } from '../../account/usage.js';
import { groupNeedsCgroup } from '../../engine/groups.js';
import { takeStreamedSnapshot } from '../../engine/snapshot.js';
import { exactFrames } from '../../engine/stream.js';
import type { StreamScratch } from '../../engine/stream-scratch.js';
import type { Snapshot } from '../../engine/types.js';
import type { UserNames } from '../../procfs/users.js';
import { renderTopCsv, renderTopJson, renderTopTable } from '../../view/top-render.js';
import { matchesFilters, selectRows, type TopSelection, totalsOf } from '../../view/top-rows.js';
import type { CommandContext } from '../context.js';
import { EXIT_OK, EXIT_PARTIAL } from '../errors.js';
import { tableWidth, useColor, writeData } from '../io.js';
import type { TopOptions } from '../top-options.js';

/**
 * One measurement of `top`: the snapshot, the processes to show (kernel threads with --all) and the exact
 * frames of sets of them. The snapshot streams: the TOTAL of every process the filters keep, and each
 * group of --by, are counted while it runs; the TOTAL of fewer rows (-n, --min, a live window) takes the
 * pages of just those processes again.
 */
export const measureTop = (
  ctx: CommandContext,
  selection: TopSelection,
  options: TopOptions,
  users: UserNames,
  /** The stream's arrays, kept from one measurement to the next by a view that repeats (see StreamScratch). */
  scratch?: StreamScratch,
) => {
  // JSON prints the whole record, so it reads what every field needs: the same values `pid --json` gives.
  const asked = [...selection.columns, selection.sort];
  const json = options.json === true;
  // A capture keeps what every view needs (flags, SwapPss), so any command can replay it.
  const capturing = ctx.recorder !== undefined;
  const needsFlags = json || capturing || asked.some((c) => c.needsFlags);
  const procRoot = ctx.procRoot;
  const caps = ctx.capabilities();
  const { snapshot, frames } = takeStreamedSnapshot(
    {
      procRoot: ctx.procRoot,
      ...(selection.pids ? { pids: selection.pids } : {}),
      engine: options.engine,
      flags: needsFlags,
      cgroups:
        (selection.by !== undefined && groupNeedsCgroup(selection.by)) ||
        selection.columns.some((c) => c.id === 'cgroup'),
      // SwapPss costs a second page-table walk per process: read only when shown, sorted by, or for JSON.
      swapPss: json || capturing || asked.some((c) => c.needsSwapPss === true),
      memTotal: json || asked.some((c) => c.needsMemTotal === true),
    },
    {
      totals: true,
      ...(selection.by ? { groupBy: selection.by } : {}),
      member: (header) => matchesFilters(header, selection),
      ...(ctx.recorder ? { recorder: ctx.recorder } : {}),
      ...(scratch ? { scratch } : {}),
    },
    caps,
    users,
  );
  const exact = frames ? exactFrames(frames, procRoot, caps, users) : undefined;
  const processes = selection.all
    ? [...snapshot.processes, ...kernelThreadRows(snapshot)]
    : snapshot.processes;
  return { snapshot, exact, processes };
};

export type TopMeasurement = ReturnType<typeof measureTop>;

/** One frame of `top`: measure, select, render. Returns the text and whether some asked-for PIDs were missing. */
export const topFrame = (
  ctx: CommandContext,
  selection: TopSelection,
  options: TopOptions,
  users: UserNames,
  scratch?: StreamScratch,
) => {
  const { snapshot, exact, processes } = measureTop(ctx, selection, options, users, scratch);
  const { rows, all, groups } = selectRows(processes, exact, selection, snapshot.memTotal);
  const totals = totalsOf(all, exact);
  let text: string;
  if (options.json) text = renderTopJson(snapshot, rows, totals, groups, selection.by);
  else if (options.csv) text = renderTopCsv(selection.columns, rows);
  else
    text = renderTopTable(selection.columns, rows, totals, {
      units: options.bytes ? 'bytes' : 'human',
      header: options.header,
      totals: options.totals,
      legend: true,
      width: tableWidth(ctx.io, options.wide),
      color: useColor(ctx.io),
    });
  return {
    text,
    snapshot,
    status: statusLines(
      snapshot,
      options.verbose === true,
      selection.pids !== undefined,
      options.quiet === true,
    ).map((line) => `memusage: ${line}`),
  };
};

/** Kernel threads have no user memory; with --all they are shown as zero rows. */
const kernelThreadRows = (snapshot: Snapshot) =>
  snapshot.skipped
    .filter((s) => s.reason === 'kernel-thread')
    .map((s) => ({
      pid: s.pid,
      ppid: s.ppid ?? 0,
      startTime: s.startTime ?? 0,
      name: s.name ?? '?',
      cmdline: [],
      uid: 0,
      user: 'root',
      state: 'S',
      usage: zeroUsage(),
      source: snapshot.engine,
    }));

/**
 * The engine and what could not be measured (stderr, or the live header): never silently missing from the
 * totals. With `quiet` only what is an error stays: the PIDs asked for with --pid that were not measured.
 */
export const statusLines = (
  snapshot: Snapshot,
  verbose: boolean,
  explicit = false,
  quiet = false,
): string[] => {
  const lines = quiet ? [] : [snapshot.engineReason, ...snapshot.notes.map((n) => `note: ${n}`)];
  // PIDs asked for with --pid are each named with their reason, as `memusage pid` does (exit status 3).
  if (explicit) return [...lines, ...snapshot.skipped.map((s) => s.message)];
  const denied = snapshot.skipped.filter((s) => s.reason === 'denied');
  if (denied.length > 0 && !quiet) lines.push(deniedLine(denied.map((s) => s.pid)));
  if (verbose) {
    for (const s of snapshot.skipped)
      if (s.reason !== 'denied' && s.reason !== 'kernel-thread') lines.push(s.message);
  }
  return lines;
};

/** "3 processes not readable (…), left out of the totals: PIDs 1, 5, 7": a count, then who (at most 5). */
export const deniedLine = (pids: readonly number[]): string => {
  const one = pids.length === 1;
  const list = pids.slice(0, 5).join(', ') + (pids.length > 5 ? ', …' : '');
  return `${pids.length} process${one ? '' : 'es'} not readable (permission denied), left out of the totals: PID${one ? '' : 's'} ${list}`;
};

/** `memusage top --once` (and every non-terminal run without --watch). */
export const runTopOnce = (ctx: CommandContext, selection: TopSelection, options: TopOptions): number => {
  const frame = topFrame(ctx, selection, options, ctx.users());
  if (options.json || options.csv) writeData(ctx.io, frame.text, options.json ? 'json' : 'csv');
  else ctx.io.out(frame.text);
  for (const line of frame.status) ctx.io.err(`${line}\n`);
  // With --pid every PID was asked for: any that could not be measured makes the status 3, as for `pid`
  // (kernel threads shown as zero rows with --all count as shown).
  const unmeasured = frame.snapshot.skipped.filter((s) => !(selection.all && s.reason === 'kernel-thread'));
  return selection.pids !== undefined && unmeasured.length > 0 ? EXIT_PARTIAL : EXIT_OK;
};
