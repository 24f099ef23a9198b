/**
 * Synthetic proc roots: a temp directory laid out like /proc with per-process stat, status, cmdline, maps,
 * smaps, smaps_rollup and pagemap, plus /proc/kpagecount and /proc/kpageflags, in the kernel's formats
 * (docs/kernel-interfaces.md §1, §3, §6). They let tests build what a live machine cannot show on demand:
 * swap and migration entries, KSM, hugetlb, 1 TiB sparse mappings, processes vanishing mid-read.
 *
 * The binary files are little-endian u64 arrays written at index * 8 into sparse files, so a 1 TiB mapping
 * costs a few blocks of disk. The engine opens /proc/self/fd/N/<file> under a directory fd, which works for a
 * temp dir as well. PAGEMAP_SCAN on a regular file fails with ENOTTY, so fixture trees exercise the plain
 * pagemap path.
 *
 * Every constant below is written from the kernel documentation, not imported from src/, so a wrong constant
 * in the engine cannot be mirrored by the fixture.
 */
import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PAGE = 4096;
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** /proc/kpageflags bit numbers (include/uapi/linux/kernel-page-flags.h). */
export const KPF = {
  LOCKED: 0,
  REFERENCED: 2,
  UPTODATE: 3,
  DIRTY: 4,
  LRU: 5,
  ACTIVE: 6,
  SLAB: 7,
  MMAP: 11,
  ANON: 12,
  SWAPCACHE: 13,
  SWAPBACKED: 14,
  COMPOUND_HEAD: 15,
  COMPOUND_TAIL: 16,
  HUGE: 17,
  UNEVICTABLE: 18,
  KSM: 21,
  THP: 22,
  ZERO_PAGE: 24,
  IDLE: 25,
  RESERVED: 32,
  MLOCKED: 33,
  OWNER_2: 34,
} as const;

/** PF_KTHREAD in the task flags of stat field 9 (include/linux/sched.h). */
export const PF_KTHREAD = 0x0020_0000;

/** The highest user address on x86-64 with 4-level paging; mappings above it (vsyscall) have no pagemap entries. */
const TASK_SIZE = 0x7fff_ffff_f000;

/** One /proc/kpagecount + /proc/kpageflags entry. */
export interface FrameSpec {
  count: number;
  /** kpageflags bit numbers, 0..63 (bits >= 32 land in the high word). */
  flags?: readonly number[];
}

/** A present pagemap entry (bit 63) for a frame. */
export interface PresentPage {
  pfn: number;
  /** Bit 61: file page or shared anon (shmem), also the huge zero page. */
  file?: boolean;
  /** Bit 56: "exclusively mapped" (a folio-granular hint the engine must not trust). */
  exclusive?: boolean;
  /** Bit 55. */
  softDirty?: boolean;
}

/** A non-present, non-none entry (bit 62): frame = type | offset << 5. */
export interface SwapPage {
  swap: { type: number; offset: number };
  /** Bit 58: guard-region marker. */
  guard?: boolean;
  /** Bit 57: uffd-wp marker. */
  uffdWp?: boolean;
}

/** A MADV_GUARD_INSTALL marker exactly as seen on the reference VM: 0x440000000000009f. */
export interface GuardPage {
  guard: true;
}

/** Any 64-bit entry, for cases the other shapes do not cover. */
export interface RawPage {
  raw: bigint;
}

export type PageSpec = PresentPage | SwapPage | GuardPage | RawPage;

const bit = (n: number): bigint => 1n << BigInt(n);

/** Encode one pagemap entry (Documentation/admin-guide/mm/pagemap.rst). */
export const pagemapEntry = (spec: PageSpec): bigint => {
  if ('raw' in spec) return spec.raw;
  if ('swap' in spec) {
    const { type, offset } = spec.swap;
    if (type < 0 || type > 31) throw new RangeError(`swap type ${type} is not 5 bits`);
    let entry = bit(62) | BigInt(type) | (BigInt(offset) << 5n);
    if (spec.guard) entry |= bit(58);
    if (spec.uffdWp) entry |= bit(57);
    return entry;
  }
  if ('pfn' in spec) {
    if (spec.pfn < 0 || spec.pfn >= 2 ** 55) throw new RangeError(`pfn ${spec.pfn} does not fit bits 0..54`);
    let entry = bit(63) | BigInt(spec.pfn);
    if (spec.file) entry |= bit(61);
    if (spec.exclusive) entry |= bit(56);
    if (spec.softDirty) entry |= bit(55);
    return entry;
  }
  return 0x4400_0000_0000_009fn;
};

export interface VmaSpec {
  start: number;
  end: number;
  /** Default 'rw-p'. */
  perms?: string;
  offset?: number;
  /** Default '00:00'. */
  dev?: string;
  inode?: number;
  /** Path or pseudo name ('[heap]', '/memfd:x (deleted)'); default '' (anonymous). */
  name?: string;
}

/** kB fields of one smaps block or of smaps_rollup ('Rss', 'Pss', ...); fields not given print as 0, null leaves a line out. */
export type KbFields = Readonly<Record<string, number | null>>;

/** The order the kernel prints smaps fields in (fs/proc/task_mmu.c __show_smap). */
const SMAPS_FIELDS = [
  'Rss',
  'Pss',
  'Pss_Dirty',
  'Shared_Clean',
  'Shared_Dirty',
  'Private_Clean',
  'Private_Dirty',
  'Referenced',
  'Anonymous',
  'KSM',
  'LazyFree',
  'AnonHugePages',
  'ShmemPmdMapped',
  'FilePmdMapped',
  'Shared_Hugetlb',
  'Private_Hugetlb',
  'Swap',
  'SwapPss',
  'Locked',
] as const;

const ROLLUP_FIELDS = [
  'Rss',
  'Pss',
  'Pss_Dirty',
  'Pss_Anon',
  'Pss_File',
  'Pss_Shmem',
  'Shared_Clean',
  'Shared_Dirty',
  'Private_Clean',
  'Private_Dirty',
  'Referenced',
  'Anonymous',
  'KSM',
  'LazyFree',
  'AnonHugePages',
  'ShmemPmdMapped',
  'FilePmdMapped',
  'Shared_Hugetlb',
  'Private_Hugetlb',
  'Swap',
  'SwapPss',
  'Locked',
] as const;

/** "Rss:                 256 kB": the name padded to 16 columns, the value to 8 (SEQ_PUT_DEC). */
const kbLine = (key: string, kb: number): string => `${`${key}:`.padEnd(16)}${String(kb).padStart(8)} kB`;

const kbBlock = (order: readonly string[], fields: KbFields): string[] =>
  [...order, ...Object.keys(fields).filter((k) => !order.includes(k))]
    .filter((k) => fields[k] !== null)
    .map((k) => kbLine(k, fields[k] ?? 0));

const hex = (n: number, width = 8): string => n.toString(16).padStart(width, '0');

/** One maps line: "start-end perms offset dev inode", then the name from column 74 (or a lone space). */
const mapsLine = (v: Required<VmaSpec>): string => {
  const head = `${hex(v.start)}-${hex(v.end)} ${v.perms} ${hex(v.offset)} ${v.dev} ${v.inode}`;
  return v.name === '' ? `${head} ` : `${head.padEnd(72)} ${v.name}`;
};

export class VmaBuilder {
  readonly spec: Required<VmaSpec>;
  /** va → entry. */
  readonly entries = new Map<number, bigint>();
  smapsFields: KbFields | undefined;

  constructor(spec: VmaSpec) {
    if (spec.start % PAGE !== 0 || spec.end % PAGE !== 0 || spec.end <= spec.start) {
      throw new RangeError(`bad VMA ${hex(spec.start)}-${hex(spec.end)}`);
    }
    this.spec = { perms: 'rw-p', offset: 0, dev: '00:00', inode: 0, name: '', ...spec };
  }

  get size(): number {
    return this.spec.end - this.spec.start;
  }

  /** Set the pagemap entry of the page at `va` (inside this VMA). */
  page(va: number, spec: PageSpec): this {
    if (va % PAGE !== 0 || va < this.spec.start || va >= this.spec.end) {
      throw new RangeError(`page ${hex(va)} is not a page of ${hex(this.spec.start)}-${hex(this.spec.end)}`);
    }
    if (this.spec.start >= TASK_SIZE)
      throw new RangeError('mappings above TASK_SIZE have no pagemap entries');
    this.entries.set(va, pagemapEntry(spec));
    return this;
  }

  /** `n` consecutive pages from `va`, entry i given by `spec(i)`. */
  pages(va: number, n: number, spec: (i: number) => PageSpec): this {
    for (let i = 0; i < n; i++) this.page(va + i * PAGE, spec(i));
    return this;
  }

  /**
   * This mapping's smaps kB fields. Size, KernelPageSize and MMUPageSize are filled in; fields not given are 0,
   * except that without a call Rss defaults to 4 kB per present entry and Swap to 4 kB per bit-62 entry.
   */
  smaps(fields: KbFields): this {
    this.smapsFields = fields;
    return this;
  }

  smapsText(): string {
    let present = 0;
    let swapped = 0;
    for (const e of this.entries.values()) {
      if ((e & bit(63)) !== 0n) present++;
      else if ((e & bit(62)) !== 0n) swapped++;
    }
    const fields = this.smapsFields ?? { Rss: present * 4, Swap: swapped * 4 };
    const lines = [
      mapsLine(this.spec),
      kbLine('Size', this.size / KiB),
      kbLine('KernelPageSize', 4),
      kbLine('MMUPageSize', 4),
      ...kbBlock(SMAPS_FIELDS, fields),
      'THPeligible:           0',
      'ProtectionKey:         0',
      `VmFlags: rd${this.spec.perms[1] === 'w' ? ' wr' : ''} mr mw me ac `,
    ];
    return lines.join('\n');
  }
}

export interface ProcessSpec {
  /** The kernel's comm (raw; may hold ')', spaces, ESC). Default 'proc<pid>'. */
  comm?: string;
  /** Stat field 3: R S D Z T t X I. Default 'S'. */
  state?: string;
  ppid?: number;
  /** Task flags, stat field 9 (PF_KTHREAD 0x00200000 for kernel threads). Default 0x00400000 (PF_RANDOMIZE). */
  taskFlags?: number;
  /** Stat field 22, clock ticks since boot. */
  startTime?: number;
  /** Effective uid, or [real, effective, saved, fs]. Default 0. */
  uid?: number | readonly [number, number, number, number];
  /** status kB fields (VmSize, RssAnon, HugetlbPages, ...): override the defaults (VmSize = Σ mappings). */
  status?: KbFields;
  /** argv; written NUL-separated with a trailing NUL. Default [comm]. */
  cmdline?: readonly string[];
}

export type ProcessFile = 'stat' | 'status' | 'cmdline' | 'maps' | 'smaps' | 'smaps_rollup' | 'pagemap';

const STATE_NAMES: Readonly<Record<string, string>> = {
  R: 'R (running)',
  S: 'S (sleeping)',
  D: 'D (disk sleep)',
  T: 'T (stopped)',
  t: 't (tracing stop)',
  X: 'X (dead)',
  Z: 'Z (zombie)',
  P: 'P (parked)',
  I: 'I (idle)',
};

const STATUS_VM_FIELDS = [
  'VmPeak',
  'VmSize',
  'VmLck',
  'VmPin',
  'VmHWM',
  'VmRSS',
  'RssAnon',
  'RssFile',
  'RssShmem',
  'VmData',
  'VmStk',
  'VmExe',
  'VmLib',
  'VmPTE',
  'VmSwap',
  'HugetlbPages',
] as const;

export class ProcessBuilder {
  readonly vmas: VmaBuilder[] = [];
  private rollup: KbFields | undefined;
  private pagemapEnd: number | undefined;
  private readonly omitted = new Set<ProcessFile>();

  constructor(
    readonly pid: number,
    readonly spec: ProcessSpec,
  ) {}

  /** Kernel threads and zombies: no address space (maps empty, pagemap and smaps_rollup fail, no Vm* in status). */
  get memoryless(): boolean {
    return (this.taskFlags & PF_KTHREAD) !== 0 || this.state === 'Z' || this.state === 'X';
  }

  get state(): string {
    return this.spec.state ?? 'S';
  }

  get taskFlags(): number {
    return this.spec.taskFlags ?? 0x0040_0000;
  }

  get comm(): string {
    return this.spec.comm ?? `proc${this.pid}`;
  }

  vma(spec: VmaSpec): VmaBuilder {
    const v = new VmaBuilder(spec);
    const overlap = this.vmas.find((o) => o.spec.start < v.spec.end && v.spec.start < o.spec.end);
    if (overlap) throw new RangeError(`VMA ${hex(spec.start)} overlaps ${hex(overlap.spec.start)}`);
    this.vmas.push(v);
    this.vmas.sort((a, b) => a.spec.start - b.spec.start);
    return v;
  }

  /** smaps_rollup kB fields; without a call the file is not written (opening it fails with ENOENT). */
  smapsRollup(fields: KbFields): this {
    this.rollup = fields;
    return this;
  }

  /**
   * Cut pagemap at `va`: entries at and above it are missing, so a read there comes up short, as when the
   * process exits or execs mid-read (kernel-interfaces.md §1.4).
   */
  pagemapEndsAt(va: number): this {
    this.pagemapEnd = va;
    return this;
  }

  /** Leave a file out of the process directory (opening it fails with ENOENT, as after the process is reaped). */
  omit(file: ProcessFile): this {
    this.omitted.add(file);
    return this;
  }

  /** Σ mapping sizes below TASK_SIZE (VmSize excludes the vsyscall gate). */
  get vssBytes(): number {
    return this.vmas.filter((v) => v.spec.start < TASK_SIZE).reduce((n, v) => n + v.size, 0);
  }

  private statText(): string {
    const vsize = this.memoryless ? 0 : this.vssBytes;
    const f: (string | number)[] = [
      this.pid, // 1 pid
      `(${this.comm})`, // 2 comm
      this.state, // 3
      this.spec.ppid ?? 1, // 4 ppid
      this.pid, // 5 pgrp
      this.pid, // 6 session
      0, // 7 tty_nr
      -1, // 8 tpgid
      this.taskFlags, // 9 flags
      120, // 10 minflt
      0, // 11 cminflt
      0, // 12 majflt
      0, // 13 cmajflt
      3, // 14 utime
      1, // 15 stime
      0, // 16 cutime
      0, // 17 cstime
      20, // 18 priority
      0, // 19 nice
      1, // 20 num_threads
      0, // 21 itrealvalue
      this.spec.startTime ?? 1000 + this.pid, // 22 starttime
      vsize, // 23 vsize (bytes)
      0, // 24 rss (pages; approximate in the kernel, unused)
      '18446744073709551615', // 25 rsslim
    ];
    // 26..52: startcode .. exit_code; exit_signal (38) is 17 for ordinary processes.
    for (let n = 26; n <= 52; n++) f.push(n === 38 ? 17 : 0);
    return `${f.join(' ')}\n`;
  }

  private statusText(): string {
    const uid = this.spec.uid ?? 0;
    const uids = typeof uid === 'number' ? [uid, uid, uid, uid] : uid;
    const kthread = (this.taskFlags & PF_KTHREAD) !== 0;
    const name = this.comm.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
    const lines = [
      `Name:\t${name}`,
      'Umask:\t0022',
      `State:\t${STATE_NAMES[this.state] ?? this.state}`,
      `Tgid:\t${this.pid}`,
      'Ngid:\t0',
      `Pid:\t${this.pid}`,
      `PPid:\t${this.spec.ppid ?? 1}`,
      'TracerPid:\t0',
      `Uid:\t${uids.join('\t')}`,
      `Gid:\t${uids.join('\t')}`,
      'FDSize:\t64',
      'Groups:\t ',
      `NStgid:\t${this.pid}`,
      `NSpid:\t${this.pid}`,
      `NSpgid:\t${this.pid}`,
      `NSsid:\t${this.pid}`,
      `Kthread:\t${kthread ? 1 : 0}`,
    ];
    if (!this.memoryless) {
      const given = this.spec.status ?? {};
      const vmSize = given.VmSize ?? this.vssBytes / KiB;
      const rss = (given.RssAnon ?? 0) + (given.RssFile ?? 0) + (given.RssShmem ?? 0);
      const values: Record<string, number | null> = {
        VmPeak: vmSize,
        VmSize: vmSize,
        VmHWM: rss,
        VmRSS: rss,
      };
      Object.assign(values, given);
      const order: readonly string[] = STATUS_VM_FIELDS;
      for (const key of [...order, ...Object.keys(given).filter((k) => !order.includes(k))]) {
        const kb = values[key];
        if (kb !== null) lines.push(`${key}:\t${String(kb ?? 0).padStart(8)} kB`);
      }
      lines.push('CoreDumping:\t0', 'THP_enabled:\t1');
    }
    lines.push(
      'Threads:\t1',
      'SigQ:\t0/95653',
      'SigPnd:\t0000000000000000',
      'ShdPnd:\t0000000000000000',
      'CapEff:\t000001ffffffffff',
      'NoNewPrivs:\t0',
      'Seccomp:\t0',
      'Cpus_allowed:\t3',
      'Cpus_allowed_list:\t0-1',
      'voluntary_ctxt_switches:\t10',
      'nonvoluntary_ctxt_switches:\t0',
    );
    return `${lines.join('\n')}\n`;
  }

  private cmdlineBytes(): Buffer {
    if (this.memoryless) return Buffer.alloc(0);
    const argv = this.spec.cmdline ?? [this.comm];
    return argv.length === 0 ? Buffer.alloc(0) : Buffer.from(`${argv.join('\0')}\0`, 'utf8');
  }

  private rollupText(): string {
    const lo = this.vmas[0]?.spec.start ?? 0;
    const hi = this.vmas.filter((v) => v.spec.start < TASK_SIZE).at(-1)?.spec.end ?? 0;
    const header = mapsLine({
      start: lo,
      end: hi,
      perms: '---p',
      offset: 0,
      dev: '00:00',
      inode: 0,
      name: '[rollup]',
    });
    return `${[header, ...kbBlock(ROLLUP_FIELDS, this.rollup ?? {})].join('\n')}\n`;
  }

  /** Write /proc/PID under `root`. */
  write(root: string): void {
    const dir = join(root, String(this.pid));
    mkdirSync(dir);
    const put = (file: ProcessFile, data: string | Buffer) => {
      if (!this.omitted.has(file)) writeFileSync(join(dir, file), data);
    };
    put('stat', this.statText());
    put('status', this.statusText());
    put('cmdline', this.cmdlineBytes());
    const vmas = this.memoryless ? [] : this.vmas;
    put('maps', vmas.map((v) => `${mapsLine(v.spec)}\n`).join(''));
    put('smaps', vmas.map((v) => `${v.smapsText()}\n`).join(''));
    if (this.rollup && !this.memoryless) put('smaps_rollup', this.rollupText());
    if (!this.memoryless && !this.omitted.has('pagemap')) this.writePagemap(join(dir, 'pagemap'));
  }

  private writePagemap(path: string): void {
    const user = this.vmas.filter((v) => v.spec.start < TASK_SIZE);
    const fullLength = ((user.at(-1)?.spec.end ?? 0) / PAGE) * 8;
    const length = this.pagemapEnd === undefined ? fullLength : (this.pagemapEnd / PAGE) * 8;
    const fd = openSync(path, 'w');
    try {
      writeU64s(
        fd,
        user.flatMap((v) => [...v.entries]).map(([va, entry]) => [va / PAGE, entry]),
      );
      ftruncateSync(fd, length);
    } finally {
      closeSync(fd);
    }
  }
}

/** Write (index, value) u64 pairs little-endian at index * 8, coalescing consecutive indexes into one write. */
const writeU64s = (fd: number, pairs: readonly (readonly [number, bigint])[]): void => {
  const sorted = [...pairs].sort((a, b) => a[0] - b[0]);
  let i = 0;
  while (i < sorted.length) {
    let j = i + 1;
    while (j < sorted.length && sorted[j]![0] === sorted[j - 1]![0] + 1) j++;
    const buf = Buffer.alloc((j - i) * 8);
    for (let k = i; k < j; k++) buf.writeBigUInt64LE(sorted[k]![1], (k - i) * 8);
    writeSync(fd, buf, 0, buf.length, sorted[i]![0] * 8);
    i = j;
  }
};

/** A proc root on disk. */
export interface WrittenTree {
  readonly root: string;
  /** Path of a file of a process, e.g. path(100, 'pagemap'). */
  path(pid: number, file: ProcessFile): string;
  cleanup(): void;
}

export class ProcTree {
  private readonly frameSpecs = new Map<number, FrameSpec>();
  private readonly processes = new Map<number, ProcessBuilder>();
  private kpageEntries: number | undefined;
  private selfPid: number | undefined;
  private kpageFiles = true;

  /** Set kpagecount/kpageflags of one frame. */
  frame(pfn: number, spec: FrameSpec): this {
    for (const b of spec.flags ?? [])
      if (!Number.isInteger(b) || b < 0 || b > 63) throw new RangeError(`flag bit ${b}`);
    this.frameSpecs.set(pfn, spec);
    return this;
  }

  /** `n` consecutive frames from `pfn` with the same count and flags, or per-frame specs. */
  frames(pfn: number, n: number, spec: FrameSpec | ((i: number) => FrameSpec)): this {
    for (let i = 0; i < n; i++) this.frame(pfn + i, typeof spec === 'function' ? spec(i) : spec);
    return this;
  }

  /** Length of kpagecount/kpageflags in entries (max_pfn); default: the highest frame given + 1. */
  maxPfn(entries: number): this {
    this.kpageEntries = entries;
    return this;
  }

  /** Leave /proc/kpagecount and /proc/kpageflags out (a kernel without them, or no permission). */
  withoutKpageFiles(): this {
    this.kpageFiles = false;
    return this;
  }

  /** Make `self` a symlink to this process's directory (the capability probe reads self/maps and self/pagemap). */
  self(pid: number): this {
    this.selfPid = pid;
    return this;
  }

  process(pid: number, spec: ProcessSpec = {}): ProcessBuilder {
    if (this.processes.has(pid)) throw new Error(`process ${pid} already exists`);
    const p = new ProcessBuilder(pid, spec);
    this.processes.set(pid, p);
    return p;
  }

  write(): WrittenTree {
    const root = mkdtempSync(join(tmpdir(), 'memusage-proc-'));
    try {
      for (const p of this.processes.values()) p.write(root);
      if (this.selfPid !== undefined) symlinkSync(String(this.selfPid), join(root, 'self'));
      if (this.kpageFiles) this.writeKpage(root);
    } catch (error) {
      rmSync(root, { recursive: true, force: true });
      throw error;
    }
    return {
      root,
      path: (pid, file) => join(root, String(pid), file),
      cleanup: () => rmSync(root, { recursive: true, force: true }),
    };
  }

  private writeKpage(root: string): void {
    const pfns = [...this.frameSpecs.keys()];
    const entries = this.kpageEntries ?? (pfns.length === 0 ? 0 : Math.max(...pfns) + 1);
    const write = (file: string, value: (spec: FrameSpec) => bigint) => {
      const fd = openSync(join(root, file), 'w');
      try {
        writeU64s(
          fd,
          [...this.frameSpecs].filter(([pfn]) => pfn < entries).map(([pfn, spec]) => [pfn, value(spec)]),
        );
        ftruncateSync(fd, entries * 8);
      } finally {
        closeSync(fd);
      }
    };
    write('kpagecount', (s) => BigInt(s.count));
    write('kpageflags', (s) => (s.flags ?? []).reduce((m, b) => m | bit(b), 0n));
  }
}
