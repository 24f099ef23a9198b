import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PAGE_SIZE } from '../kernel/pagemap-bits.js';
import { parseMaps } from '../parse/maps.js';
import { CaptureError } from './errors.js';
import {
  DEVICE_ORDINAL,
  type Manifest,
  PAGES_HEADER,
  PAGES_RUN,
  PAGES_VMA,
  parseManifest,
  TOP,
} from './format.js';
import { readTar, type TarEntry } from './tar.js';

export interface CapturedProcess {
  pid: number;
  /** Text files by name (stat, status, maps, cgroup, cmdline; smem's: smaps, stat, cmdline). */
  files: Map<string, Buffer>;
  /** memusage captures: the PAGES_* table. */
  pages?: Uint32Array;
  /** smem captures: the owner of the process's files. */
  uid?: number;
}

/** A capture read whole and checked, ready to be laid out as a proc tree. */
export type Capture =
  | {
      kind: 'memusage';
      manifest: Manifest;
      processes: CapturedProcess[];
      counts: Uint32Array;
      flags: Uint32Array;
      system: Map<string, Buffer>;
      users: Map<number, string>;
    }
  | {
      kind: 'smem';
      processes: CapturedProcess[];
      system: Map<string, Buffer>;
      /** smemcap's copy of /etc/passwd, when it has one. */
      passwd: Buffer | undefined;
    };

const u32Table = (file: string, name: string, data: Buffer | undefined): Uint32Array => {
  if (!data) throw new CaptureError(`${file}: corrupt capture (${name} is missing)`);
  if (data.length % 4 !== 0) throw new CaptureError(`${file}: corrupt capture (${name} is not a u32 table)`);
  const out = new Uint32Array(data.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = data.readUInt32LE(i * 4);
  return out;
};

/**
 * Every bound the replay relies on, checked before anything is laid out: the table's length from its
 * header, one VMA entry per mapping in maps, runs inside the frame tables, and no mapping holding more
 * pages than it spans. A capture that fails any of them is refused: never numbers from a damaged file.
 */
const checkPages = (file: string, pid: number, pages: Uint32Array, maps: Buffer, frames: number): void => {
  const bad = (what: string) => new CaptureError(`${file}: corrupt capture (process ${pid}: ${what})`);
  if (pages.length < PAGES_HEADER) throw bad('pages table too short');
  const [vmaCount, runCount, markers] = [pages[0]!, pages[1]!, pages[2]!];
  if (pages.length !== PAGES_HEADER + vmaCount * PAGES_VMA + runCount * PAGES_RUN)
    throw bad('pages table length');
  const vmas = parseMaps(maps.toString('latin1'));
  if (vmas.length !== vmaCount) throw bad(`${vmaCount} mappings in pages, ${vmas.length} in maps`);
  let run = PAGES_HEADER + vmaCount * PAGES_VMA;
  let free = 0;
  for (let v = 0; v < vmaCount; v++) {
    const at = PAGES_HEADER + v * PAGES_VMA;
    let present = 0;
    for (let r = 0; r < pages[at]!; r++, run += PAGES_RUN) {
      if (run >= pages.length) throw bad('more runs than the header says');
      const first = pages[run]!;
      const length = pages[run + 1]!;
      if (length === 0 || (first !== DEVICE_ORDINAL && first + length > frames))
        throw bad('a run outside the frame table');
      present += length;
    }
    const span = (vmas[v]!.end - vmas[v]!.start) / PAGE_SIZE;
    const used = present + pages[at + 1]! + pages[at + 2]!;
    if (used > span) throw bad(`mapping ${v} holds more pages than it spans`);
    free += span - used;
  }
  if (run !== pages.length) throw bad('fewer runs than the header says');
  if (markers > free) throw bad('more marker pages than room for them');
};

const fromEntries = (file: string, entries: readonly TarEntry[]): Capture => {
  const byName = new Map(entries.map((e) => [e.name.replace(/^\.?\//, ''), e]));
  const manifestEntry = byName.get(`${TOP}/manifest.json`);
  if (!manifestEntry) return smemFromEntries(file, entries);
  const manifest = parseManifest(file, manifestEntry.data.toString('utf8'));
  const get = (name: string) => byName.get(`${TOP}/${name}`)?.data;
  const counts = u32Table(file, 'frames/counts', get('frames/counts'));
  const flags = u32Table(file, 'frames/flags', get('frames/flags'));
  if (counts.length !== manifest.frames || flags.length !== manifest.frames) {
    throw new CaptureError(
      `${file}: corrupt capture (frame tables of ${counts.length} and ${flags.length}, manifest says ${manifest.frames})`,
    );
  }
  const processes: CapturedProcess[] = [];
  for (const pid of manifest.pids) {
    const files = new Map<string, Buffer>();
    for (const name of ['stat', 'status', 'maps', 'cgroup', 'cmdline']) {
      const data = get(`proc/${pid}/${name}`);
      if (data) files.set(name, data);
    }
    for (const name of ['stat', 'status', 'maps']) {
      if (!files.has(name))
        throw new CaptureError(`${file}: corrupt capture (proc/${pid}/${name} is missing)`);
    }
    const pages = u32Table(file, `proc/${pid}/pages`, get(`proc/${pid}/pages`));
    checkPages(file, pid, pages, files.get('maps')!, manifest.frames);
    processes.push({ pid, files, pages });
  }
  const system = new Map<string, Buffer>();
  for (const [name, entry] of byName) {
    if (name.startsWith(`${TOP}/system/`)) system.set(name.slice(TOP.length + 8), entry.data);
  }
  const users = new Map<number, string>();
  for (const line of (get('users') ?? Buffer.alloc(0)).toString('utf8').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) users.set(Number(line.slice(0, colon)), line.slice(colon + 1));
  }
  return { kind: 'memusage', manifest, processes, counts, flags, system, users };
};

/** smem's smemcap layout: PID/smaps, PID/stat, PID/cmdline, meminfo, version, passwd (any prefix, or proc/). */
const SMEM_PROCESS = /^(?:.*\/)?(\d+)\/(smaps|stat|cmdline|status)$/;

const smemFromEntries = (file: string, entries: readonly TarEntry[]): Capture => {
  const processes = new Map<number, CapturedProcess>();
  const system = new Map<string, Buffer>();
  let passwd: Buffer | undefined;
  const owners = new Map<number, { uid: number; uname?: string }>();
  for (const entry of entries) {
    if (entry.type === '5') {
      // smem takes a process's user from its directory entry (uid, and the name tar stored with it).
      const dir = /^(?:.*\/)?(\d+)\/?$/.exec(entry.name);
      if (dir && entry.uid !== undefined)
        owners.set(Number(dir[1]), { uid: entry.uid, ...(entry.uname ? { uname: entry.uname } : {}) });
      continue;
    }
    const m = SMEM_PROCESS.exec(entry.name);
    if (m) {
      const pid = Number(m[1]);
      let p = processes.get(pid);
      if (!p) {
        p = { pid, files: new Map() };
        processes.set(pid, p);
      }
      p.files.set(m[2]!, entry.data);
      if (m[2] === 'smaps' || p.uid === undefined) p.uid = entry.uid;
      continue;
    }
    const base = entry.name.replace(/^.*\//, '');
    if (base === 'meminfo' || base === 'version') system.set(base, entry.data);
    if (base === 'passwd') passwd = entry.data;
  }
  const list = [...processes.values()].filter((p) => p.files.has('smaps')).sort((a, b) => a.pid - b.pid);
  const names = new Map<number, string>();
  for (const p of list) {
    const owner = owners.get(p.pid);
    if (owner) p.uid = owner.uid;
    if (owner?.uname) names.set(owner.uid, owner.uname);
  }
  if (!passwd && names.size > 0)
    passwd = Buffer.from([...names].map(([uid, name]) => `${name}:x:${uid}:\n`).join(''));
  if (list.length === 0) {
    throw new CaptureError(
      `${file}: neither a memusage capture nor an smem capture (no manifest.json, no PID/smaps)`,
    );
  }
  return { kind: 'smem', processes: list, system, passwd };
};

/** A directory laid out as DIR/proc/PID/smaps (or DIR/PID/smaps): read as smem's capture would be. */
const fromDirectory = (dir: string): Capture => {
  const base = statSafe(join(dir, 'proc'))?.isDirectory() ? join(dir, 'proc') : dir;
  const entries: TarEntry[] = [];
  for (const name of readdirSync(base)) {
    const path = join(base, name);
    if (/^\d+$/.test(name) && statSafe(path)?.isDirectory()) {
      for (const file of ['smaps', 'stat', 'cmdline', 'status']) {
        const st = statSafe(join(path, file));
        if (st?.isFile())
          entries.push({ name: `${name}/${file}`, data: readFileSync(join(path, file)), uid: st.uid });
      }
    } else if (['meminfo', 'version'].includes(name) && statSafe(path)?.isFile()) {
      entries.push({ name, data: readFileSync(path) });
    }
  }
  if (statSafe(join(dir, 'etc', 'passwd'))?.isFile())
    entries.push({ name: 'passwd', data: readFileSync(join(dir, 'etc', 'passwd')) });
  return smemFromEntries(dir, entries);
};

const statSafe = (path: string) => {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
};

/** Read a capture: a memusage .tar.gz, an smemcap tar (gzipped or not), or a directory laid out like one. */
export const readCapture = (file: string): Capture => {
  const st = statSafe(file);
  if (!st) throw new CaptureError(`${file}: no such file`);
  if (st.isDirectory()) return fromDirectory(file);
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (error) {
    throw new CaptureError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return fromEntries(file, readTar(file, raw));
};
