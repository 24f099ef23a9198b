import type { Capabilities } from '../engine/capabilities.js';
import { takeStreamedSnapshot } from '../engine/snapshot.js';
import type { EngineChoice, EngineName } from '../engine/types.js';
import type { ProcRoot } from '../procfs/root.js';
import type { UserNames } from '../procfs/users.js';

/** The tree's memory at one moment. Bytes. */
export interface TreeMemory {
  engine: EngineName;
  engineReason: string;
  /** RSS and USS from frames (pagemap); false: sums of the members' smaps_rollup values. */
  exact: boolean;
  rss: number;
  pss: number;
  uss: number;
  byPid: Map<number, { pss: number; uss: number }>;
}

/**
 * One snapshot of the tree's processes, streamed like top's (memory bounded by the tree's distinct frames
 * plus one batch, not by the sum of its processes' pages). Tree PSS is the sum of member PSS; tree RSS
 * counts each frame once and tree USS counts frames whose every mapping is inside the tree: the stream's
 * totals over every process it measured.
 */
export const treeMemory = (
  root: ProcRoot,
  pids: readonly number[],
  engine: EngineChoice,
  caps: Capabilities,
  users: UserNames,
): TreeMemory => {
  const { snapshot, frames } = takeStreamedSnapshot(
    { procRoot: root, pids, engine, flags: false },
    { totals: true },
    caps,
    users,
  );
  const byPid = new Map(snapshot.processes.map((p) => [p.pid, { pss: p.usage.pss, uss: p.usage.uss }]));
  const pss = snapshot.processes.reduce((sum, p) => sum + p.usage.pss, 0);
  if (frames?.totals) {
    const group = frames.totals;
    return {
      engine: snapshot.engine,
      engineReason: snapshot.engineReason,
      exact: true,
      pss,
      byPid,
      ...group,
    };
  }
  return {
    engine: snapshot.engine,
    engineReason: snapshot.engineReason,
    exact: false,
    rss: snapshot.processes.reduce((sum, p) => sum + p.usage.rss, 0),
    pss,
    uss: snapshot.processes.reduce((sum, p) => sum + p.usage.uss, 0),
    byPid,
  };
};
