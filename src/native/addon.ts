import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The optional native addon, memusage_native (native/*.c): the PAGEMAP_SCAN ioctl, the per-page loops and
 * the batched /proc reads. Loaded once; everything it offers has a TypeScript fallback, so a missing build
 * only costs speed.
 */

/** From this file: src/native/ under vitest, dist/native/ after tsc and dist/bundle/ all sit two levels below the package. */
export const ADDON_PATH = fileURLToPath(new URL('../../build/Release/memusage_native.node', import.meta.url));
/** The package's own build script, by absolute path: the one command that builds the addon however the package was installed. */
export const BUILD_SCRIPT = fileURLToPath(new URL('../../scripts/build-native.mjs', import.meta.url));

export type AddonLoad =
  | { addon: Record<string, unknown>; error?: undefined }
  | { addon?: undefined; error: string };

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/**
 * Whether an export's ABI record (the values its C was compiled with) holds each of `expected` (src/'s):
 * a part built from older sources or with other values is not used, and its TypeScript twin runs instead.
 * `>>> 0`: the C exports unsigned values (PM_PRESENT_HI is 2^31).
 */
export const abiMatches = (abi: unknown, expected: Readonly<Record<string, number>>): boolean =>
  isRecord(abi) && Object.entries(expected).every(([name, value]) => abi[name] === value >>> 0);

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Why the addon did not load, in one line: it ends up inside a note on stderr. Node's "Cannot find
 * module" message goes on with a require stack, which says nothing to a user who never built it.
 */
const loadFailure = (error: unknown): string => {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  if (code === 'MODULE_NOT_FOUND') return `native addon not built; node ${BUILD_SCRIPT} builds it`;
  const [first = ''] = messageOf(error).split('\n');
  return `cannot load the native addon (node ${BUILD_SCRIPT} rebuilds it): ${first}`;
};

let loaded: AddonLoad | undefined;

const load = (): AddonLoad => {
  if (loaded) return loaded;
  try {
    const addon: unknown = createRequire(import.meta.url)(ADDON_PATH);
    loaded = isRecord(addon) ? { addon } : { error: `${ADDON_PATH} exports no object` };
  } catch (error) {
    loaded = { error: loadFailure(error) };
  }
  return loaded;
};

/** MEMUSAGE_NO_NATIVE=1 forces the TypeScript paths, without touching the cached load. */
export const nativeDisabled = (env: NodeJS.ProcessEnv): boolean => env.MEMUSAGE_NO_NATIVE === '1';

/** The addon's exports, or why there are none for this environment. */
export const loadAddon = (env: NodeJS.ProcessEnv = process.env): AddonLoad =>
  nativeDisabled(env) ? { error: 'disabled by MEMUSAGE_NO_NATIVE=1' } : load();
