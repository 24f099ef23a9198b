import { FileFrameCounter } from '../account/file-account.js';
import type { FrameTable } from '../account/frame-table.js';
import { accountRange, newAccumulator, usageFromAccumulator } from '../account/page-account.js';
import type { ProcessPages } from '../account/process-pages.js';
import type { FileUser, MappedFile } from './libs.js';
import type { ProcessHeader } from './process-header.js';
import type { MappedProcess, MappingSink } from './stream.js';

/** Slots per kept file mapping: file number, first page, end page, mapping size in bytes. */
const SPAN = 4;

/**
 * libs in a streamed snapshot: every file mapped by the chosen processes, accounted batch by batch. Of each
 * process only the page ranges of its file mappings are kept (numbers, with the file's path interned), and
 * each batch adds them up per file (FileFrameCounter: distinct frames over the whole snapshot, PSS
 * shifted once per file) and per (file, process), exactly as the detailed snapshot did with every page.
 */
export class LibsSink implements MappingSink {
  private readonly ids = new Map<string, number>();
  private readonly paths: string[] = [];
  private readonly frames = new FileFrameCounter();
  /** Users per file number, in the order files were first fed (the order libs listed them in). */
  private readonly users = new Map<number, FileUser[]>();

  /**
   * @param isFile whether a mapping's name is a file libs reports (a path, matching --lib)
   * @param chosen whether a process is one libs reports on (--process)
   */
  constructor(
    private readonly isFile: (name: string) => boolean,
    private readonly chosen: (header: ProcessHeader) => boolean,
  ) {}

  keep(header: ProcessHeader, pages: ProcessPages): Float64Array | undefined {
    if (!this.chosen(header)) return undefined;
    const spans: number[] = [];
    pages.vmas.forEach((vma, v) => {
      if (!this.isFile(vma.name)) return;
      spans.push(this.idOf(vma.name), pages.vmaFirst[v]!, pages.vmaFirst[v + 1]!, vma.end - vma.start);
    });
    return spans.length > 0 ? Float64Array.from(spans) : undefined;
  }

  feed(members: readonly MappedProcess[], table: FrameTable, dense: Uint32Array, frames: number): void {
    const hasFlags = table.flagsLo !== undefined;
    for (const { process, pages, kept } of members) {
      // This process's mappings by file, in the order its maps lists the files.
      const byFile = new Map<number, number[]>();
      for (let s = 0; s < kept.length; s += SPAN) {
        const file = kept[s]!;
        const list = byFile.get(file);
        if (list) list.push(s);
        else byFile.set(file, [s]);
      }
      for (const [file, spans] of byFile) {
        const acc = newAccumulator();
        let vss = 0;
        for (const s of spans) {
          const from = kept[s + 1]!;
          const to = kept[s + 2]!;
          accountRange(pages, table, from, to, acc);
          this.frames.add(file, pages.pfns, from, to, table, dense, frames);
          vss += kept[s + 3]!;
        }
        const usage = usageFromAccumulator(acc, vss, 0, hasFlags, pages.pmdKnown);
        let users = this.users.get(file);
        if (!users) {
          users = [];
          this.users.set(file, users);
        }
        users.push({
          pid: process.pid,
          name: process.name,
          cmdline: process.cmdline,
          user: process.user,
          mappings: spans.length,
          vss,
          rss: usage.rss,
          pss: usage.pss,
          uss: usage.uss,
        });
      }
    }
  }

  /** Every file fed, with its users. */
  files(): MappedFile[] {
    return [...this.users].map(([file, users]) => {
      const frames = this.frames.result(file);
      return {
        path: this.paths[file]!,
        processes: users.length,
        vss: users.reduce((n, u) => n + u.vss, 0),
        ...frames,
        avgPss: Math.floor(frames.pss / users.length),
        users,
      };
    });
  }

  private idOf(path: string): number {
    let id = this.ids.get(path);
    if (id === undefined) {
      id = this.paths.length;
      this.ids.set(path, id);
      this.paths.push(path);
    }
    return id;
  }
}
