import { listPids } from '../procfs/process-dir.js';
import type { UserNames } from '../procfs/users.js';
import type { Capabilities } from './capabilities.js';
import { LibsSink } from './libs-sink.js';
import { measureProcesses } from './process-batch.js';
import { readSmapsProcess, SMAPS_NOTES, type SmapsMapping, smapsEngineReason } from './smaps-rows.js';
import { takeStreamedSnapshot } from './snapshot.js';
import type { ProcessMemory, Skipped, Snapshot } from './types.js';

/** One process's use of one file: the pages of its mappings of the file (smaps semantics). */
export interface FileUser {
  pid: number;
  name: string;
  cmdline: string[];
  user: string;
  mappings: number;
  vss: number;
  rss: number;
  pss: number;
  /** Pages of these mappings mapped exactly once (smaps Private). */
  uss: number;
}

/** One mapped file over all processes (librank / smem -m). */
export interface MappedFile {
  path: string;
  processes: number;
  /** Σ of mapping sizes over processes. */
  vss: number;
  /**
   * Distinct frames in the file's mappings. Null from smaps where it cannot be told: smaps does not say
   * which frames two processes (or two mappings of the same file pages) share.
   */
  rss: number | null;
  /** Σ per-process RSS (a page mapped by 3 processes counts 3 times): librank's RSS. */
  mappedRss: number;
  pss: number;
  /** Σ over processes of pages mapped exactly once (librank's USS). */
  uss: number;
  /** pss / processes, in whole bytes. */
  avgPss: number;
  users: FileUser[];
}

export interface LibsOptions {
  procRoot: string;
  /** Only processes whose name or command line matches. */
  process?: RegExp;
  /** Only files whose path matches. */
  lib?: RegExp;
  /** Pages per batch of the streamed snapshot (engine/stream.ts DEFAULT_PAGE_BUDGET when absent). */
  pageBudget?: number;
}

export interface LibsResult {
  snapshot: Snapshot;
  files: MappedFile[];
}

const matches = (p: Pick<ProcessMemory, 'name' | 'cmdline'>, re: RegExp | undefined) =>
  re === undefined || re.test(p.name) || re.test(p.cmdline.join(' '));

/** A mapping is of a file when its name is a path ("/…", including "(deleted)" files). */
const isFileOf = (name: string, lib: RegExp | undefined) => name.startsWith('/') && (!lib || lib.test(name));

/**
 * A file's distinct frames from smaps, where they can be told: one process maps it, its mappings of the
 * file cover disjoint file ranges (so no file page is in two of them; COW copies are frames of their own)
 * and none holds KSM pages (which merge frames). Then they are its RSS; else unknown.
 */
const distinctRss = (users: readonly FileUser[], mappings: readonly SmapsMapping[]): number | null => {
  if (users.length !== 1 || mappings.some((m) => m.ksm > 0)) return null;
  const ranges = mappings
    .map((m) => [m.vma.offset, m.vma.offset + (m.vma.end - m.vma.start)] as const)
    .sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) if (ranges[i]![0] < ranges[i - 1]![1]) return null;
  return users[0]!.rss;
};

/**
 * Without page frames: every file mapped by the processes whose smaps can be read (your own, as non-root),
 * from the kernel's per-mapping smaps (see readSmapsProcess). Per file: PSS, USS (Private) and mapped RSS
 * are sums over its mappings; distinct RSS only where distinctRss can tell it.
 */
const measureLibsFromSmaps = (o: LibsOptions, caps: Capabilities, users: UserNames): LibsResult => {
  const takenAt = Date.now();
  const results = measureProcesses(
    o.procRoot,
    listPids(o.procRoot),
    users,
    { explicit: false, cgroup: false },
    { files: [] },
    (dir, header) => (matches(header, o.process) ? { header, smaps: readSmapsProcess(dir) } : undefined),
  );
  const processes: ProcessMemory[] = [];
  const skipped: Skipped[] = [];
  const files = new Map<string, { mappings: SmapsMapping[]; users: FileUser[] }>();
  for (const result of results) {
    if (result === undefined) continue;
    if ('reason' in result) {
      skipped.push(result);
      continue;
    }
    const { status: _status, ...header } = result.header;
    const proc: ProcessMemory = { ...header, usage: result.smaps.total, source: 'smaps' };
    processes.push(proc);
    const mine = new Map<string, SmapsMapping[]>();
    for (const m of result.smaps.mappings) {
      if (!isFileOf(m.vma.name, o.lib)) continue;
      const list = mine.get(m.vma.name);
      if (list) list.push(m);
      else mine.set(m.vma.name, [m]);
    }
    for (const [path, list] of mine) {
      let entry = files.get(path);
      if (!entry) {
        entry = { mappings: [], users: [] };
        files.set(path, entry);
      }
      entry.mappings.push(...list);
      const sum = (get: (m: SmapsMapping) => number) => list.reduce((n, m) => n + get(m), 0);
      entry.users.push({
        pid: proc.pid,
        name: proc.name,
        cmdline: proc.cmdline,
        user: proc.user,
        mappings: list.length,
        vss: sum((m) => m.usage.vss),
        rss: sum((m) => m.usage.rss),
        pss: sum((m) => m.usage.pss),
        uss: sum((m) => m.usage.uss),
      });
    }
  }
  const out: MappedFile[] = [...files].map(([path, { mappings, users: fileUsers }]) => {
    const sum = (get: (u: FileUser) => number) => fileUsers.reduce((n, u) => n + get(u), 0);
    const pss = sum((u) => u.pss);
    return {
      path,
      processes: fileUsers.length,
      vss: sum((u) => u.vss),
      rss: distinctRss(fileUsers, mappings),
      mappedRss: sum((u) => u.rss),
      pss,
      uss: sum((u) => u.uss),
      avgPss: Math.floor(pss / fileUsers.length),
      users: fileUsers,
    };
  });
  const snapshot: Snapshot = {
    takenAt,
    engine: 'smaps',
    engineReason: smapsEngineReason('auto', caps.framesReason),
    notes: [...SMAPS_NOTES.libs],
    processes,
    skipped,
  };
  return { snapshot, files: out };
};

/**
 * Every file mapped by the chosen processes, from one streamed snapshot with the pagemap engine (without
 * page frames, from smaps: measureLibsFromSmaps). A mapping belongs to a file when its name is a path
 * ("/…", including "(deleted)" files); its pages include private copies (COW) of file pages, as in smaps.
 * RSS is distinct frames, PSS the sum of the pages' shares, USS the pages with a single mapping (librank).
 * The files are added up batch by batch (LibsSink): memory grows with the distinct frames, not with every
 * process's pages.
 */
export const measureLibs = (o: LibsOptions, caps: Capabilities, users: UserNames): LibsResult => {
  if (!caps.frames) return measureLibsFromSmaps(o, caps, users);
  const sink = new LibsSink(
    (name) => isFileOf(name, o.lib),
    (header) => matches(header, o.process),
  );
  const { snapshot } = takeStreamedSnapshot(
    { procRoot: o.procRoot, engine: 'pagemap', flags: true },
    { mappings: sink, ...(o.pageBudget === undefined ? {} : { pageBudget: o.pageBudget }) },
    caps,
    users,
  );
  return { snapshot, files: sink.files() };
};
