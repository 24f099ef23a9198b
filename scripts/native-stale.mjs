// Whether a checkout's native addon is older than its sources: `npm ci` builds it (the install script), but
// a checkout pulled or edited past a native change afterwards keeps the old one, which runs without the new
// native functions (exact, slower) until rebuilt. Shared by `npm run build` (scripts/build-native.mjs
// --if-stale rebuilds it) and the bench (which refuses to measure such a checkout).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The sources (paths relative to `repo`) newer than `repo`'s built addon: native/*.c and *.h, and
 * binding.gyp. Empty when the addon is current, and when there is none (the install decided about that).
 */
export const staleNativeSources = (repo) => {
  const addon = join(repo, 'build', 'Release', 'memusage_native.node');
  if (!existsSync(addon)) return [];
  const built = statSync(addon).mtimeMs;
  const sources = readdirSync(join(repo, 'native'))
    .filter((file) => /\.[ch]$/.test(file))
    .map((file) => join('native', file));
  if (existsSync(join(repo, 'binding.gyp'))) sources.push('binding.gyp');
  return sources.filter((file) => statSync(join(repo, file)).mtimeMs > built);
};
