import { accountSharing, type SharingMatrix } from '../account/shared-account.js';
import type { UserNames } from '../procfs/users.js';
import type { Capabilities } from './capabilities.js';
import { takeDetailedSnapshot } from './snapshot.js';
import type { ProcessMemory, Snapshot } from './types.js';

export interface SharedResult {
  snapshot: Snapshot;
  /** The measured processes, in the order asked for; sharing.members follows this order. */
  processes: ProcessMemory[];
  sharing: SharingMatrix;
}

/** Pages shared among the given processes, exact from one pagemap snapshot of just those processes. */
export const measureShared = (
  procRoot: string,
  pids: readonly number[],
  caps: Capabilities,
  users: UserNames,
): SharedResult => {
  const { snapshot, detail } = takeDetailedSnapshot(
    { procRoot, pids, engine: 'pagemap', flags: true },
    caps,
    users,
  );
  const pagesByPid = new Map(detail?.collected.map((c) => [c.header.pid, c.pages]) ?? []);
  const byPid = new Map(snapshot.processes.map((p) => [p.pid, p]));
  const processes = pids.flatMap((pid) => (pagesByPid.has(pid) ? (byPid.get(pid) ?? []) : []));
  const members = processes.map((p) => pagesByPid.get(p.pid)!);
  const sharing = detail
    ? accountSharing(members, detail.table)
    : {
        pairs: new Float64Array(0),
        members: [],
        set: { distinct: 0, private: 0, sharedInSet: 0, sharedOutside: 0 },
      };
  return { snapshot, processes, sharing };
};
