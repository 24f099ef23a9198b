import { FileAccountant, type PageRange } from '../account/file-account.js';
import { accountRange, newAccumulator, usageFromAccumulator } from '../account/page-account.js';
import type { UserNames } from '../procfs/users.js';
import type { Capabilities } from './capabilities.js';
import { takeDetailedSnapshot } from './snapshot.js';
import type { ProcessMemory, Snapshot } from './types.js';

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
  /** Distinct frames in the file's mappings. */
  rss: number;
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
}

export interface LibsResult {
  snapshot: Snapshot;
  files: MappedFile[];
}

const matches = (p: ProcessMemory, re: RegExp | undefined) =>
  re === undefined || re.test(p.name) || re.test(p.cmdline.join(' '));

/**
 * Every file mapped by the chosen processes, from one snapshot with the pagemap engine. A mapping belongs to
 * a file when its name is a path ("/…", including "(deleted)" files); its pages include private copies
 * (COW) of file pages, as in smaps. RSS is distinct frames, PSS the sum of the pages' shares, USS the pages
 * with a single mapping (librank).
 */
export const measureLibs = (o: LibsOptions, caps: Capabilities, users: UserNames): LibsResult => {
  const { snapshot, detail } = takeDetailedSnapshot(
    { procRoot: o.procRoot, engine: 'pagemap', flags: true },
    caps,
    users,
  );
  if (!detail) return { snapshot, files: [] };
  const byPid = new Map(snapshot.processes.map((p) => [p.pid, p]));
  const files = new Map<string, { ranges: PageRange[]; users: FileUser[] }>();
  const hasFlags = detail.table.flagsLo !== undefined;
  for (const { header, pages } of detail.collected) {
    const proc = byPid.get(header.pid);
    if (!proc || !matches(proc, o.process)) continue;
    const mine = new Map<string, number[]>();
    pages.vmas.forEach((vma, v) => {
      if (!vma.name.startsWith('/') || (o.lib && !o.lib.test(vma.name))) return;
      const list = mine.get(vma.name);
      if (list) list.push(v);
      else mine.set(vma.name, [v]);
    });
    for (const [path, vmaList] of mine) {
      let entry = files.get(path);
      if (!entry) {
        entry = { ranges: [], users: [] };
        files.set(path, entry);
      }
      const acc = newAccumulator();
      let vss = 0;
      for (const v of vmaList) {
        const range = { pages, from: pages.vmaFirst[v]!, to: pages.vmaFirst[v + 1]! };
        entry.ranges.push(range);
        accountRange(pages, detail.table, range.from, range.to, acc);
        vss += pages.vmas[v]!.end - pages.vmas[v]!.start;
      }
      const usage = usageFromAccumulator(acc, vss, 0, hasFlags, pages.pmdKnown);
      entry.users.push({
        pid: proc.pid,
        name: proc.name,
        cmdline: proc.cmdline,
        user: proc.user,
        mappings: vmaList.length,
        vss,
        rss: usage.rss,
        pss: usage.pss,
        uss: usage.uss,
      });
    }
  }
  const accountant = new FileAccountant(detail.table);
  const out: MappedFile[] = [...files].map(([path, { ranges, users: fileUsers }]) => {
    const frames = accountant.account(ranges);
    return {
      path,
      processes: fileUsers.length,
      vss: fileUsers.reduce((n, u) => n + u.vss, 0),
      ...frames,
      avgPss: Math.floor(frames.pss / fileUsers.length),
      users: fileUsers,
    };
  });
  return { snapshot, files: out };
};
