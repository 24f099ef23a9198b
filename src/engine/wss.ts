import { rssFrame } from '../account/frame-table.js';
import { PfnIndex } from '../account/pfn-index.js';
import type { ProcessPages } from '../account/process-pages.js';
import { PAGE_SIZE } from '../kernel/pagemap-bits.js';
import { PF_KTHREAD } from '../kernel/task-flags.js';
import type { Vma } from '../parse/maps.js';
import { type ClearRefsValue, writeClearRefs } from '../procfs/clear-refs.js';
import { ProcError } from '../procfs/errors.js';
import { readFrameTable } from '../procfs/kpage.js';
import { readMaps } from '../procfs/maps.js';
import { damonRunning, PageIdleBitmap, pageIdleUnavailable, type SysRoot } from '../procfs/page-idle.js';
import { PagemapReader } from '../procfs/pagemap.js';
import { closeProcessDir, openProcessDir, type ProcessDir } from '../procfs/process-dir.js';
import { readStat } from '../procfs/process-info.js';
import type { ProcRoot } from '../procfs/root.js';
import { readSmaps } from '../procfs/smaps.js';
import type { Capabilities } from './capabilities.js';
import { EngineUnavailableError } from './errors.js';
import { skipFor } from './process-header.js';
import type { Skipped } from './types.js';

export type WssMethod = 'clear-refs' | 'idle';
export type WssMethodChoice = 'auto' | WssMethod;
/** Which mappings are measured: clear_refs 1 (all), 2 (no vm_file: anonymous), 3 (vm_file, shmem included). */
export type WssScope = 'all' | 'anon' | 'file';

const SCOPE_VALUE: Record<WssScope, ClearRefsValue> = { all: 1, anon: 2, file: 3 };

/** One mapping's share of a working-set sample. */
export interface MappingWss {
  start: number;
  end: number;
  perms: string;
  /** The mapped file or [heap]/[stack]/..., raw: escape before printing. */
  name: string;
  kind: 'anon' | 'file';
  rss: number;
  wss: number;
}

/** Bytes a process touched during one window, split by mapping kind; out-of-scope kinds read 0. */
export interface ProcessWss {
  pid: number;
  name: string;
  wss: number;
  anon: number;
  file: number;
  rss: number;
  maps: MappingWss[];
}

export interface WssReading {
  processes: ProcessWss[];
  skipped: Skipped[];
}

/** A mapping with a vm_file is what clear_refs 3 selects: file mappings and shmem (inode ≠ 0). */
const kindOf = (vma: Vma): 'anon' | 'file' => (vma.inode !== 0 ? 'file' : 'anon');

const inScope = (scope: WssScope, kind: 'anon' | 'file'): boolean => scope === 'all' || scope === kind;

export interface WssMethodChoiceResult {
  method: WssMethod;
  /** Why this method measures, in words for the user. */
  reason: string;
}

/** Pick the method: idle page tracking where the kernel has it (it leaves reclaim alone), else clear_refs. */
export const chooseWssMethod = (
  choice: WssMethodChoice,
  sysRoot: SysRoot,
  caps: Capabilities,
): WssMethodChoiceResult => {
  const idleMissing = pageIdleUnavailable(sysRoot) ?? (caps.frames ? undefined : caps.framesReason);
  if (choice === 'idle') {
    if (idleMissing) throw new EngineUnavailableError(`the idle method cannot run: ${idleMissing}`);
    return { method: 'idle', reason: 'idle: requested with --method idle' };
  }
  if (choice === 'clear-refs') return { method: 'clear-refs', reason: 'clear-refs: requested with --method' };
  if (idleMissing)
    return { method: 'clear-refs', reason: `clear-refs: idle page tracking unavailable (${idleMissing})` };
  // DAMON re-records what it clears as PG_young, which smaps' Referenced counts but the idle bitmap does not.
  if (damonRunning(sysRoot)) {
    return {
      method: 'clear-refs',
      reason: 'clear-refs: a DAMON kdamond is running and would hide accesses from the idle method',
    };
  }
  return { method: 'idle', reason: 'idle: page_idle bitmap available (does not disturb reclaim)' };
};

interface Tracked {
  dir: ProcessDir;
  name: string;
}

export interface WorkingSetOptions {
  procRoot: ProcRoot;
  sysRoot: SysRoot;
  method: WssMethod;
  scope: WssScope;
  caps: Capabilities;
}

/**
 * Measures working sets over windows: `begin()` clears referenced bits (or marks pages idle), `read()`
 * counts what was touched since. Each process's /proc directory stays open from begin to read, so a PID
 * reused in between is never measured in place of the original.
 */
export class WorkingSetTracker {
  private readonly tracked = new Map<number, Tracked>();
  private readonly reader: PagemapReader;
  private bitmap: PageIdleBitmap | undefined;

  constructor(private readonly options: WorkingSetOptions) {
    this.reader = new PagemapReader(options.caps.scanner);
  }

  /** Start a window for `pids`; processes that cannot be cleared come back as Skipped. */
  begin(pids: readonly number[], explicit = true): Skipped[] {
    const skipped: Skipped[] = [];
    const marked: ProcessPages[] = [];
    for (const pid of pids) {
      const entry = this.tracked.get(pid) ?? this.track(pid, explicit);
      if ('reason' in entry) {
        skipped.push(entry);
        continue;
      }
      try {
        if (this.options.method === 'clear-refs') writeClearRefs(entry.dir, SCOPE_VALUE[this.options.scope]);
        else marked.push(this.pagesInScope(entry.dir));
      } catch (error) {
        this.forget(pid);
        skipped.push(skipFor(pid, error, false, this.options.procRoot));
      }
    }
    if (marked.length > 0) {
      this.bitmap ??= PageIdleBitmap.open(this.options.sysRoot);
      this.bitmap.markIdle(
        PfnIndex.build(
          marked.map((p) => p.pfns),
          this.options.caps.frameCount,
        ),
      );
    }
    return skipped;
  }

  /** Count what each begun process touched since its window began. */
  read(): WssReading {
    const processes: ProcessWss[] = [];
    const skipped: Skipped[] = [];
    const pids = [...this.tracked.keys()];
    const idlePages = new Map<number, ProcessPages>();
    for (const pid of pids) {
      const { dir, name } = this.tracked.get(pid)!;
      try {
        if (this.options.method === 'clear-refs') processes.push(this.readReferenced(dir, name));
        else idlePages.set(pid, this.pagesInScope(dir));
      } catch (error) {
        this.forget(pid);
        skipped.push(skipFor(pid, error, false, this.options.procRoot));
      }
    }
    if (idlePages.size > 0) processes.push(...this.readIdle(idlePages));
    return { processes, skipped };
  }

  /** Stop tracking processes no longer asked for (e.g. exited tree members). */
  retain(pids: readonly number[]): void {
    const keep = new Set(pids);
    for (const pid of [...this.tracked.keys()]) if (!keep.has(pid)) this.forget(pid);
  }

  close(): void {
    for (const pid of [...this.tracked.keys()]) this.forget(pid);
    this.bitmap?.close();
    this.bitmap = undefined;
  }

  private forget(pid: number): void {
    const entry = this.tracked.get(pid);
    if (entry) closeProcessDir(entry.dir);
    this.tracked.delete(pid);
  }

  /** Open a process for tracking; kernel threads and zombies have no pages and come back as Skipped. */
  private track(pid: number, explicit: boolean): Tracked | Skipped {
    let dir: ProcessDir;
    try {
      dir = openProcessDir(this.options.procRoot, pid);
    } catch (error) {
      return skipFor(pid, error, explicit, this.options.procRoot);
    }
    try {
      const stat = readStat(dir);
      if ((stat.flags & PF_KTHREAD) !== 0 || stat.state === 'Z' || stat.state === 'X') {
        closeProcessDir(dir);
        return (stat.flags & PF_KTHREAD) !== 0
          ? { pid, reason: 'kernel-thread', message: `${pid} is a kernel thread: it has no user memory` }
          : { pid, reason: 'zombie', message: `${pid} is a zombie: its memory is already freed` };
      }
      const entry = { dir, name: stat.comm };
      this.tracked.set(pid, entry);
      return entry;
    } catch (error) {
      closeProcessDir(dir);
      return skipFor(pid, error, false, this.options.procRoot);
    }
  }

  /** smaps per mapping: `Referenced:` after clear_refs is the working set (kernel-interfaces.md §5). */
  private readReferenced(dir: ProcessDir, name: string): ProcessWss {
    const result: ProcessWss = { pid: dir.pid, name, wss: 0, anon: 0, file: 0, rss: 0, maps: [] };
    const smaps = readSmaps(dir);
    // A process that exited but was not reaped yet (zombie) has no mappings left.
    if (smaps.length === 0) throw new ProcError('gone', `${dir.base}/smaps`, `${dir.pid} exited`);
    for (const { vma, fields } of smaps) {
      const kind = kindOf(vma);
      const rss = (fields.Rss ?? 0) * 1024;
      const wss = inScope(this.options.scope, kind) ? (fields.Referenced ?? 0) * 1024 : 0;
      addMapping(result, vma, kind, rss, wss);
    }
    return result;
  }

  /** The process's present pages in the mappings of the scope. */
  private pagesInScope(dir: ProcessDir): ProcessPages {
    return this.reader.read(dir, () => readMaps(dir).filter((v) => inScope(this.options.scope, kindOf(v))));
  }

  /**
   * A page is in the working set when its idle bit was cleared (accessed) or it was not present when the
   * window began (faulted in since). Frames with map count 0 are the zero page: not memory.
   */
  private readIdle(byPid: Map<number, ProcessPages>): ProcessWss[] {
    const all = [...byPid.values()];
    const index = PfnIndex.build(
      all.map((p) => p.pfns),
      this.options.caps.frameCount,
    );
    this.bitmap ??= PageIdleBitmap.open(this.options.sysRoot);
    const idle = this.bitmap.readIdle(index);
    const table = readFrameTable(this.options.procRoot, index, false);
    const out: ProcessWss[] = [];
    for (const [pid, pages] of byPid) {
      const result: ProcessWss = {
        pid,
        name: this.tracked.get(pid)?.name ?? '?',
        wss: 0,
        anon: 0,
        file: 0,
        rss: 0,
        maps: [],
      };
      pages.vmas.forEach((vma, v) => {
        let rss = 0;
        let wss = 0;
        for (let i = pages.vmaFirst[v]!; i < pages.vmaFirst[v + 1]!; i++) {
          const pfn = pages.pfns[i]!;
          if (rssFrame(table, pfn) < 0) continue; // device memory, zero page, hugetlb: not RSS
          rss += PAGE_SIZE;
          if ((idle[pfn >>> 5]! & (1 << (pfn & 31))) === 0) wss += PAGE_SIZE;
        }
        addMapping(result, vma, kindOf(vma), rss, wss);
      });
      out.push(result);
    }
    return out;
  }
}

const addMapping = (result: ProcessWss, vma: Vma, kind: 'anon' | 'file', rss: number, wss: number): void => {
  result.rss += rss;
  result.wss += wss;
  result[kind] += wss;
  if (rss > 0 || wss > 0) {
    result.maps.push({ start: vma.start, end: vma.end, perms: vma.perms, name: vma.name, kind, rss, wss });
  }
};
