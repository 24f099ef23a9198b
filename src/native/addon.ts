import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The optional native addon (native/*.c): the PAGEMAP_SCAN ioctl and the per-page loops. Loaded once;
 * everything it offers has a TypeScript fallback, so a missing build only costs speed.
 */

/** From this file: src/native/ under vitest, dist/native/ after tsc and dist/bundle/ all sit two levels below the package. */
export const ADDON_PATH = fileURLToPath(new URL('../../build/Release/pagemap_scan.node', import.meta.url));

export type AddonLoad =
  | { addon: Record<string, unknown>; error?: undefined }
  | { addon?: undefined; error: string };

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

let loaded: AddonLoad | undefined;

const load = (): AddonLoad => {
  if (loaded) return loaded;
  try {
    const addon: unknown = createRequire(import.meta.url)(ADDON_PATH);
    loaded = isRecord(addon) ? { addon } : { error: `${ADDON_PATH} exports no object` };
  } catch (error) {
    loaded = {
      error: `cannot load the addon (not built? run: node scripts/build-native.mjs): ${messageOf(error)}`,
    };
  }
  return loaded;
};

/** MEMUSAGE_NO_NATIVE=1 forces the TypeScript paths, without touching the cached load. */
export const nativeDisabled = (env: NodeJS.ProcessEnv): boolean => env.MEMUSAGE_NO_NATIVE === '1';

/** The addon's exports, or why there are none for this environment. */
export const loadAddon = (env: NodeJS.ProcessEnv = process.env): AddonLoad =>
  nativeDisabled(env) ? { error: 'disabled by MEMUSAGE_NO_NATIVE=1' } : load();
