import type { MemUsage } from '../account/usage.js';
import type { ProcessMemory, Skipped, Snapshot } from '../engine/types.js';

/** One process as scripts see it: usage flattened, values in bytes, name and argv exact. */
export type ProcessRecord = {
  pid: number;
  ppid: number;
  name: string;
  cmdline: string;
  argv: string[];
  user: string;
  uid: number;
  startTime: number;
  state: string;
  source: string;
} & MemUsage;

export const processRecord = (p: ProcessMemory): ProcessRecord => ({
  pid: p.pid,
  ppid: p.ppid,
  name: p.name,
  cmdline: p.cmdline.join(' '),
  argv: p.cmdline,
  user: p.user,
  uid: p.uid,
  startTime: p.startTime,
  state: p.state,
  source: p.source,
  ...p.usage,
});

/** The stable JSON document shared by `pid` and `top` (memusage(1), JSON OUTPUT). */
export interface SnapshotDocument {
  version: 1;
  engine: Snapshot['engine'];
  engineReason: string;
  takenAt: string;
  notes: string[];
  processes: ProcessRecord[];
  skipped: Skipped[];
  [extra: string]: unknown;
}

export const snapshotDocument = (
  snapshot: Snapshot,
  processes: readonly ProcessMemory[],
): SnapshotDocument => ({
  version: 1,
  engine: snapshot.engine,
  engineReason: snapshot.engineReason,
  takenAt: new Date(snapshot.takenAt).toISOString(),
  notes: snapshot.notes,
  processes: processes.map(processRecord),
  skipped: snapshot.skipped,
});

export const toJson = (doc: unknown): string => `${JSON.stringify(doc, null, 2)}\n`;
