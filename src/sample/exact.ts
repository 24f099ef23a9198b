import { GroupAccountant } from '../account/group-account.js';
import type { Capabilities } from '../engine/capabilities.js';
import { takeDetailedSnapshot } from '../engine/snapshot.js';
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
 * One consistent snapshot of the tree's processes. Tree PSS is the sum of member PSS; tree RSS counts each
 * frame once and tree USS counts frames whose every mapping is inside the tree (GroupAccountant).
 */
export const treeMemory = (
  root: ProcRoot,
  pids: readonly number[],
  engine: EngineChoice,
  caps: Capabilities,
  users: UserNames,
): TreeMemory => {
  const { snapshot, detail } = takeDetailedSnapshot(
    { procRoot: root, pids, engine, flags: false },
    caps,
    users,
  );
  const byPid = new Map(snapshot.processes.map((p) => [p.pid, { pss: p.usage.pss, uss: p.usage.uss }]));
  const pss = snapshot.processes.reduce((sum, p) => sum + p.usage.pss, 0);
  if (detail) {
    const group = new GroupAccountant(detail.table).account(detail.collected.map((c) => c.pages));
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
