import { KPF_HUGE, KPF_ZERO_PAGE } from '../kernel/kpageflags.js';
import { abiMatches, loadAddon } from './addon.js';

/**
 * native/file_frames.c: FileFrameCounter's per-page loop (src/account/file-account.ts addJs is its twin).
 * out receives [distinct frames, PSS fixed point, pages with map count 1, resident pages, conflicts listed].
 */
export type FileFramesLoop = (
  pfns: Uint32Array,
  from: number,
  to: number,
  bits: Uint32Array,
  rank: Uint32Array,
  limit: number,
  counts: Uint32Array,
  flagsLo: Uint32Array | undefined,
  toGlobal: Uint32Array,
  owner: Uint32Array,
  file: number,
  conflicts: Uint32Array,
  out: Float64Array,
) => void;

const EXPECTED_ABI: Record<string, number> = { KPF_HUGE, KPF_ZERO_PAGE };

/** A function whose compiled-in kernel values (its ABI property) equal src/kernel/'s. */
const isLoop = (value: unknown): value is FileFramesLoop => {
  if (typeof value !== 'function') return false;
  const abi: unknown = Reflect.get(value, 'ABI');
  return abiMatches(abi, EXPECTED_ABI);
};

/** The native loop, or undefined (no addon, one built from older sources or other kernel values, MEMUSAGE_NO_NATIVE=1). */
export const loadFileFrames = (env: NodeJS.ProcessEnv = process.env): FileFramesLoop | undefined => {
  const { addon } = loadAddon(env);
  return addon && isLoop(addon.fileFrames) ? addon.fileFrames : undefined;
};

export const nativeFileFrames: FileFramesLoop | undefined = loadFileFrames();
