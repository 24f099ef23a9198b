import type { Skipped } from '../engine/types.js';
import type { MappingWss, WssMethod, WssScope } from '../engine/wss.js';
import { type RunSummary, summarize } from './summary.js';
import type { SeriesInfo, TreeSample } from './types.js';

/** How the measured command ended. `status` is what a shell would report: the code, or 128 + signal. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
  status: number;
}

/** The document `run --json` writes and `measure()` returns. Bytes and milliseconds. */
export interface RunRecord extends SeriesInfo {
  version: 1;
  kind: 'run';
  /** argv of the measured command; null when an existing PID was measured. */
  command: string[] | null;
  pid: number;
  startedAt: string;
  durationMs: number;
  exit: ExitInfo | null;
  summary: RunSummary;
  samples: TreeSample[];
}

export const runRecord = (
  target: { command: string[] | null; pid: number },
  info: SeriesInfo,
  startedAt: Date,
  durationMs: number,
  samples: TreeSample[],
  exit: ExitInfo | null,
): RunRecord => ({
  version: 1,
  kind: 'run',
  command: target.command,
  pid: target.pid,
  startedAt: startedAt.toISOString(),
  durationMs,
  exit,
  ...info,
  summary: summarize(samples, durationMs),
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
