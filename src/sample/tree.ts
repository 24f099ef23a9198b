import { existsSync } from 'node:fs';
import { listPids } from '../procfs/process-dir.js';
import { liveStartTime } from '../procfs/process-info.js';
import type { ProcRoot } from '../procfs/root.js';
import { type MemberStatus, StatusReader } from '../procfs/status-reader.js';

/** A tree member as one cheap status read shows it. Bytes. */
export interface TreeMember {
  pid: number;
  ppid: number;
  name: string;
  rss: number;
  hwm: number;
}

/** A zombie's memory is already freed; it is not part of the tree's memory. */
/**
 * With children files, every this many walks is still a full walk by parent PID (10 s at the default
 * interval). A child missed by a read racing its fork is found on the next walk anyway (every member's
 * children are read every walk); the full walk is a safety net, and listing all of /proc costs more than the
 * rest of an idle tick (several ms on a busy 2-core VM).
 */
const FULL_WALK_EVERY = 100;

const dead = (status: MemberStatus): boolean => status.state.startsWith('Z') || status.state.startsWith('X');

const memberOf = (pid: number, status: MemberStatus, ppid?: number): TreeMember => ({
  pid,
  ppid: ppid ?? status.ppid,
  name: status.name,
  rss: status.rss,
  hwm: status.hwm,
});

/**
 * Finds a process and all its descendants: by parent PID over all of /proc, or, where the kernel has
 * /proc/PID/task/TID/children, from the members' children files with a full walk every FULL_WALK_EVERY calls. Cost: one status read per member and per PID not seen before; the parent
 * of a non-member is remembered, since a process's parent only ever changes to a reaper outside the tree.
 * A member whose parent exits stays a member (daemons started by the command are still its memory).
 */
/** What the native status ticker reads between walks (see TreeWalker.watchSet). */
export interface WatchSet {
  /** The status file of each member of the last walk, in its order. */
  statusFds: Int32Array;
  /** The children files of the processes walked: a PID in one that is not in `known` is a new member. */
  childrenFds: Int32Array;
  /** Every PID the last walk looked at (members, and zombies and the root that are not), sorted. */
  known: Uint32Array;
}

export class TreeWalker {
  /** Keeps the members' status files open from tick to tick (on the real procfs). */
  private readonly reader: StatusReader;
  /** Whether this kernel has /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN); looked at on the first walk. */
  private childrenFiles: boolean | undefined;
  private ticks = 0;
  private readonly outsiders = new Map<number, number>();
  /**
   * Members stay members while they live, even when their parent exits and they are reparented away.
   * Each is remembered with its start time, so a PID reused by an unrelated process never joins.
   */
  private joined = new Map<number, number>();
  /** The PIDs the last walk looked at (see WatchSet.known). */
  private looked: readonly number[] = [];

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
    /** With children files, every this many walks is a full walk by parent PID (see FULL_WALK_EVERY). */
    private readonly fullWalkEvery = FULL_WALK_EVERY,
  ) {
    this.reader = new StatusReader(root);
  }

  /**
   * The files to read between walks so that nothing the next walk would see goes unnoticed: a member's exit
   * shows in its status, a new process in its parent's children file (with a tracer's list, its events
   * say). Undefined where that cannot hold: no children files and no tracer (only a walk by parent PID finds
   * new processes), a process whose children file the walk did not read, or a member whose status is not
   * held open (another root, too many members).
   */
  watchSet(members: readonly TreeMember[]): WatchSet | undefined {
    if (!this.listed && !this.childrenFiles) return undefined;
    const statusFds = new Int32Array(members.length);
    for (let i = 0; i < members.length; i++) {
      const fd = this.reader.statusFd(members[i]!.pid);
      if (fd === undefined) return undefined;
      statusFds[i] = fd;
    }
    const children: number[] = [];
    if (!this.listed)
      for (const pid of this.looked) {
        const fds = this.reader.childrenFds(pid);
        // Not read by this walk (a walk by parent PID reads none): the next walk by children files will.
        if (fds.length === 0) return undefined;
        children.push(...fds);
      }
    const known = Uint32Array.from(this.looked).sort();
    return { statusFds, childrenFds: Int32Array.from(children), known };
  }

  /** Close the status files held open. */
  close(): void {
    this.reader.close();
  }

  walk(): TreeMember[] {
    if (this.listed) return this.readListed(this.listed());
    this.childrenFiles ??= existsSync(`${this.root}/${this.rootPid}/task/${this.rootPid}/children`);
    // The children files are only exact while the process is stopped (a fork racing the read can be
    // missed): a full walk by parent every FULL_WALK_EVERY ticks catches whatever they missed.
    if (this.childrenFiles && this.ticks++ % this.fullWalkEvery !== 0) return this.walkByChildren();
    return this.walkByParent();
  }

  /**
   * The tree from its members' children files: no /proc listing (a readdir of every process on the
   * machine, most of an idle tick's cost), one status and one children read per member, through held files.
   */
  private walkByChildren(): TreeMember[] {
    const members: TreeMember[] = [];
    const inTree = new Set<number>();
    const queue = [this.rootPid, ...this.joined.keys()];
    const next = new Map<number, number>();
    const childOfMember = new Set<number>();
    while (queue.length > 0) {
      const pid = queue.shift()!;
      if (inTree.has(pid)) continue;
      inTree.add(pid);
      const read = this.reader.read(pid);
      if (!read) continue;
      const start = this.joined.get(pid);
      // A member that is no child of another, read afresh (not through a file held since it joined), may be
      // an unrelated process that took its PID.
      const reused = !childOfMember.has(pid) && !read.throughHeld && start !== undefined;
      if (reused && liveStartTime(this.root, pid) !== start) continue;
      for (const child of this.reader.children(pid, read.status.threads)) {
        this.outsiders.delete(child);
        childOfMember.add(child);
        queue.push(child);
      }
      if (dead(read.status)) continue;
      if (this.excludeRoot && pid === this.rootPid) continue;
      members.push(memberOf(pid, read.status));
      const started = read.throughHeld && start !== undefined ? start : liveStartTime(this.root, pid);
      if (started !== undefined) next.set(pid, started);
    }
    this.joined = next;
    this.reader.keepOnly(inTree);
    this.looked = [...inTree];
    return members;
  }

  private readListed(pids: Iterable<number>): TreeMember[] {
    const members: TreeMember[] = [];
    const seen = new Set<number>();
    for (const pid of pids) {
      seen.add(pid);
      const status = this.reader.read(pid)?.status;
      if (!status || dead(status)) continue;
      members.push(memberOf(pid, status));
    }
    this.reader.keepOnly(seen);
    this.looked = [...seen];
    return members;
  }

  private walkByParent(): TreeMember[] {
    const pids = listPids(this.root);
    // A PID that left the listing is forgotten, so if it is reused, the new process is looked at.
    const listed = new Set(pids);
    for (const pid of this.outsiders.keys()) if (!listed.has(pid)) this.outsiders.delete(pid);
    const parentOf = new Map<number, number>();
    const fresh = new Map<number, { status: MemberStatus; throughHeld: boolean }>();
    for (const pid of pids) {
      const known = this.outsiders.get(pid);
      if (known !== undefined) {
        parentOf.set(pid, known);
        continue;
      }
      const read = this.reader.read(pid);
      if (!read) continue;
      fresh.set(pid, read);
      parentOf.set(pid, read.status.ppid);
    }
    const children = new Map<number, number[]>();
    for (const [pid, ppid] of parentOf) {
      const list = children.get(ppid);
      if (list) list.push(pid);
      else children.set(ppid, [pid]);
    }
    const members: TreeMember[] = [];
    // A status read through a file held since an earlier tick is the very process that joined then: no need
    // to read its start time again.
    const still = [...this.joined].filter(
      ([pid, start]) =>
        parentOf.has(pid) && (fresh.get(pid)?.throughHeld || liveStartTime(this.root, pid) === start),
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
      const status = (fresh.get(pid) ?? this.reader.read(pid))?.status;
      if (!status || dead(status)) continue;
      if (this.excludeRoot && pid === this.rootPid) continue;
      members.push(memberOf(pid, status, parentOf.get(pid)));
    }
    const next = new Map<number, number>();
    for (const m of members) {
      const start = verified.get(m.pid) ?? liveStartTime(this.root, m.pid);
      if (start !== undefined) next.set(m.pid, start);
    }
    this.joined = next;
    for (const [pid, read] of fresh) {
      if (!inTree.has(pid)) this.outsiders.set(pid, read.status.ppid);
    }
    this.reader.keepOnly(inTree);
    this.looked = [...inTree];
    return members;
  }
}
