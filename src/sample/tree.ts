import { type StatusFields, statusBytes } from '../parse/status.js';
import { closeProcessDir, listPids, openProcessDir } from '../procfs/process-dir.js';
import { liveStartTime, readStatus } from '../procfs/process-info.js';
import type { ProcRoot } from '../procfs/root.js';

/** A tree member as one cheap status read shows it. Bytes. */
export interface TreeMember {
  pid: number;
  ppid: number;
  name: string;
  rss: number;
  hwm: number;
}

const readMemberStatus = (root: ProcRoot, pid: number): StatusFields | undefined => {
  let dir: ReturnType<typeof openProcessDir> | undefined;
  try {
    dir = openProcessDir(root, pid);
    return readStatus(dir);
  } catch {
    return undefined; // Gone between the listing and the read: not a member any more.
  } finally {
    if (dir) closeProcessDir(dir);
  }
};

const memberOf = (pid: number, status: StatusFields, ppid?: number): TreeMember => ({
  pid,
  ppid: ppid ?? Number(status.get('PPid') ?? 0),
  name: status.get('Name') ?? '?',
  rss: statusBytes(status, 'VmRSS') ?? 0,
  hwm: statusBytes(status, 'VmHWM') ?? 0,
});

/**
 * Finds a process and all its descendants by parent PID, re-walked on every call (this kernel has no
 * /proc/PID/task/TID/children). Cost: one status read per member and per PID not seen before; the parent
 * of a non-member is remembered, since a process's parent only ever changes to a reaper outside the tree.
 * A member whose parent exits stays a member (daemons started by the command are still its memory).
 */
export class TreeWalker {
  private readonly outsiders = new Map<number, number>();
  /**
   * Members stay members while they live, even when their parent exits and they are reparented away.
   * Each is remembered with its start time, so a PID reused by an unrelated process never joins.
   */
  private joined = new Map<number, number>();

  /**
   * `excludeRoot`: the root is memusage-launch, the tree's subreaper (orphans stay its children), whose
   * own memory is not the command's.
   */
  constructor(
    private readonly root: ProcRoot,
    readonly rootPid: number,
    private readonly excludeRoot = false,
    /**
     * The tree's live PIDs as a tracer knows them (memusage-launch's start and end events): then no
     * /proc listing and no parent walk, so a tick costs one status read per member however many
     * processes the machine runs.
     */
    private readonly listed?: () => Iterable<number>,
  ) {}

  walk(): TreeMember[] {
    if (this.listed) return this.readListed(this.listed());
    return this.walkByParent();
  }

  private readListed(pids: Iterable<number>): TreeMember[] {
    const members: TreeMember[] = [];
    for (const pid of pids) {
      const status = readMemberStatus(this.root, pid);
      if (!status || /^[ZX]/.test(status.get('State') ?? '')) continue;
      members.push(memberOf(pid, status));
    }
    return members;
  }

  private walkByParent(): TreeMember[] {
    const pids = listPids(this.root);
    // A PID that left the listing is forgotten, so if it is reused, the new process is looked at.
    const listed = new Set(pids);
    for (const pid of this.outsiders.keys()) if (!listed.has(pid)) this.outsiders.delete(pid);
    const parentOf = new Map<number, number>();
    const fresh = new Map<number, StatusFields>();
    for (const pid of pids) {
      const known = this.outsiders.get(pid);
      if (known !== undefined) {
        parentOf.set(pid, known);
        continue;
      }
      const status = readMemberStatus(this.root, pid);
      if (!status) continue;
      fresh.set(pid, status);
      parentOf.set(pid, Number(status.get('PPid') ?? 0));
    }
    const children = new Map<number, number[]>();
    for (const [pid, ppid] of parentOf) {
      const list = children.get(ppid);
      if (list) list.push(pid);
      else children.set(ppid, [pid]);
    }
    const members: TreeMember[] = [];
    const still = [...this.joined].filter(
      ([pid, start]) => parentOf.has(pid) && liveStartTime(this.root, pid) === start,
    );
    const verified = new Map(still);
    const queue = [...new Set([this.rootPid, ...verified.keys()])].filter((pid) => parentOf.has(pid));
    const inTree = new Set(queue);
    while (queue.length > 0) {
      const pid = queue.shift()!;
      for (const child of children.get(pid) ?? []) {
        if (inTree.has(child)) continue;
        inTree.add(child);
        queue.push(child);
      }
      const status = fresh.get(pid) ?? readMemberStatus(this.root, pid);
      // A zombie's memory is already freed; it is not part of the tree's memory.
      if (!status || /^[ZX]/.test(status.get('State') ?? '')) continue;
      if (this.excludeRoot && pid === this.rootPid) continue;
      members.push(memberOf(pid, status, parentOf.get(pid)));
    }
    const next = new Map<number, number>();
    for (const m of members) {
      const start = verified.get(m.pid) ?? liveStartTime(this.root, m.pid);
      if (start !== undefined) next.set(m.pid, start);
    }
    this.joined = next;
    for (const [pid, status] of fresh) {
      if (!inTree.has(pid)) this.outsiders.set(pid, Number(status.get('PPid') ?? 0));
    }
    return members;
  }
}
