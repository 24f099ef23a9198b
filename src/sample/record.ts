import type { Skipped } from '../engine/types.js';
import type { MappingWss, WssMethod, WssScope } from '../engine/wss.js';
import type { LedgerEntry } from './process-ledger.js';
import { type RunSummary, summarize } from './summary.js';
import type { ExitInfo, SeriesInfo, TreeSample } from './types.js';

export type { ExitInfo } from './types.js';

/** How the processes of the tree were seen. */
export interface TracingInfo {
  /**
   * 'ptrace': memusage-launch traced the tree, so every process is recorded with its start, end, exit and
   * the kernel's peak read at its exit stop. 'sampling': only the processes alive at a sample are seen.
   */
  method: 'ptrace' | 'sampling';
  /** Why this method: on 'sampling', why ptrace was not used. */
  reason: string;
  /** CPU memusage-launch used (ms) and the ptrace stops it handled; null without the launcher. */
  launcherCpuMs: number | null;
  stops: number | null;
}

/** The document `run --json` writes and `measure()` returns. Bytes and milliseconds. */
export interface RunRecord extends SeriesInfo {
  version: 1;
  kind: 'run';
  /** argv of the measured command; null when an existing PID was measured. */
  command: string[] | null;
  pid: number;
  startedAt: string;
  /** From the command's start to its end (with the launcher: its exec to its exit, as the kernel reported them). */
  durationMs: number;
  exit: ExitInfo | null;
  tracing: TracingInfo;
  summary: RunSummary;
  samples: TreeSample[];
}

export const runRecord = (
  target: { command: string[] | null; pid: number },
  info: SeriesInfo,
  tracing: TracingInfo,
  startedAt: Date,
  durationMs: number,
  samples: TreeSample[],
  exit: ExitInfo | null,
  traced: readonly LedgerEntry[] = [],
): RunRecord => ({
  version: 1,
  kind: 'run',
  command: target.command,
  pid: target.pid,
  startedAt: startedAt.toISOString(),
  durationMs,
  exit,
  ...info,
  tracing,
  summary: summarize(samples, durationMs, traced, tracing.method === 'ptrace'),
  samples,
});

/** One process's working set over one window (`wss --json`, `workingSet()`). Bytes; t in ms since start. */
export interface WssSampleRecord {
  pid: number;
  name: string;
  t: number;
  windowMs: number;
  wss: number;
  anon: number;
  file: number;
  rss: number;
  maps?: MappingWss[];
}

export interface WssRecord {
  version: 1;
  kind: 'wss';
  method: WssMethod;
  methodReason: string;
  scope: WssScope;
  intervalMs: number;
  samples: WssSampleRecord[];
  skipped: Skipped[];
}
