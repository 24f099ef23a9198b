import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Capabilities } from '../engine/capabilities.js';
import { writeFileAtomic } from '../files/write-atomic.js';
import { PAGE_SIZE } from '../kernel/pagemap-bits.js';
import type { ProcRoot } from '../procfs/root.js';
import { CaptureError } from './errors.js';
import { FORMAT_NAME, FORMAT_VERSION, type Manifest, TOP } from './format.js';
import type { CaptureRecorder } from './recorder.js';
import { gzipTar, type TarEntry } from './tar.js';

/** memusage's version, written into every capture. */
export const MEMUSAGE_VERSION = '0.1.0';

/** Machine settings kept as raw text: name in the capture → path under the proc or sys root. */
const SYSTEM_FILES: readonly [string, 'proc' | 'sys', string][] = [
  ['meminfo', 'proc', 'meminfo'],
  ['osrelease', 'proc', 'sys/kernel/osrelease'],
  ['thp-enabled', 'sys', 'kernel/mm/transparent_hugepage/enabled'],
  ['thp-defrag', 'sys', 'kernel/mm/transparent_hugepage/defrag'],
  ['thp-shmem-enabled', 'sys', 'kernel/mm/transparent_hugepage/shmem_enabled'],
  ['ksm-run', 'sys', 'kernel/mm/ksm/run'],
  ['ksm-pages-shared', 'sys', 'kernel/mm/ksm/pages_shared'],
  ['ksm-pages-sharing', 'sys', 'kernel/mm/ksm/pages_sharing'],
];

const readOptional = (path: string): Buffer | undefined => {
  try {
    return readFileSync(path);
  } catch {
    return undefined; // An older kernel without THP or KSM: the capture says nothing about them.
  }
};

const u32le = (values: Uint32Array): Buffer => {
  const out = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeUInt32LE(values[i]!, i * 4);
  return out;
};

export interface CaptureContext {
  procRoot: ProcRoot;
  sysRoot: string;
  caps: Capabilities;
  command: string;
}

/** The archive's entries, manifest first. */
export const captureEntries = (recorder: CaptureRecorder, ctx: CaptureContext): TarEntry[] => {
  const snapshot = recorder.result;
  if (!snapshot) throw new CaptureError('nothing was recorded');
  const kept = new Set(snapshot.processes.map((p) => p.pid));
  // Processes that went away while measured were recorded before the engine knew: they are skipped, not kept.
  const processes = recorder.processes.filter((p) => kept.has(p.pid));
  const system: TarEntry[] = [];
  const systemAt = Date.now();
  let meminfoAt = systemAt;
  for (const [name, where, path] of SYSTEM_FILES) {
    const data = readOptional(join(where === 'proc' ? ctx.procRoot : ctx.sysRoot, path));
    if (name === 'meminfo') meminfoAt = Date.now();
    if (data) system.push({ name: `${TOP}/system/${name}`, data });
  }
  const users = new Map(snapshot.processes.map((p) => [p.uid, p.user]));
  const manifest: Manifest = {
    format: FORMAT_NAME,
    version: FORMAT_VERSION,
    memusage: MEMUSAGE_VERSION,
    command: ctx.command,
    takenAt: snapshot.takenAt,
    read: {
      processes: [recorder.started || snapshot.takenAt, recorder.ended || snapshot.takenAt],
      meminfo: meminfoAt,
      system: systemAt,
    },
    engine: 'pagemap',
    engineReason: snapshot.engineReason,
    framesReason: ctx.caps.framesReason,
    pagemapScan:
      ctx.caps.scanner !== undefined && !snapshot.notes.some((n) => n.startsWith('PAGEMAP_SCAN unavailable')),
    ...(ctx.caps.scannerReason ? { scannerReason: ctx.caps.scannerReason } : {}),
    pageSize: PAGE_SIZE,
    kernel:
      system
        .find((e) => e.name.endsWith('/osrelease'))
        ?.data.toString('utf8')
        .trim() ?? '',
    frames: recorder.counts.length,
    zeroOrdinal: recorder.zeroOrdinal,
    privacy: { cmdline: recorder.withCmdline, redactedPaths: recorder.redactPaths },
    notes: snapshot.notes,
    skipped: snapshot.skipped,
    pids: processes.map((p) => p.pid),
  };
  const entries: TarEntry[] = [
    { name: `${TOP}/manifest.json`, data: Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`) },
    ...system,
    {
      name: `${TOP}/users`,
      data: Buffer.from([...users].map(([uid, name]) => `${uid}:${name}\n`).join('')),
    },
    { name: `${TOP}/frames/counts`, data: u32le(recorder.counts) },
    { name: `${TOP}/frames/flags`, data: u32le(recorder.flags) },
  ];
  for (const p of processes) {
    for (const [name, data] of p.files) entries.push({ name: `${TOP}/proc/${p.pid}/${name}`, data });
    entries.push({ name: `${TOP}/proc/${p.pid}/pages`, data: u32le(p.pages) });
  }
  return entries;
};

/**
 * Write the capture to `file` atomically (mode 0600: it holds other users' process names and memory layout).
 * Returns its size in bytes.
 */
export const writeCapture = (file: string, entries: readonly TarEntry[], takenAt: number): number => {
  const data = gzipTar(entries, takenAt);
  writeFileAtomic(file, data, 0o600);
  return data.length;
};
