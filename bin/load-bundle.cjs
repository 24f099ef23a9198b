// Loads the CLI bundle on a Node without module.enableCompileCache (before 22.1) with a V8 code cache of
// its own: compiling the 850 kB bundle, and then each function the command calls, is about 15 ms of a
// 100 ms start-up on the reference VM; with the cache V8 deserialises the code instead.
//
// The cache is a file in a directory inside the package (see bin/memusage on why not /tmp), named for
// what V8 cannot check itself: it checks its own version and flags, and of the source only its length,
// so the name holds the bundle's size and modification time (a rebuild never meets an old cache) and
// V8's version (a Node upgrade writes a cache of its own instead of rejecting the old one each run).
// A cache V8 rejects (a Node started with other flags, a damaged file) is ignored: the bundle compiles
// as it would without one. A missing cache is written when the process exits, with every function
// compiled by then; `npm run build` writes it after a `top --once` (scripts/bundle-cli.mjs), so that the
// functions of a snapshot are in it. Writing is best effort: a package the user cannot write to runs
// without a cache.
const {
  accessSync,
  constants,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

/** The cache file for this bundle as it is now, under this V8. */
const cacheFileFor = (bundle, cacheDir) => {
  const { size, mtimeMs } = statSync(bundle);
  const v8 = process.versions.v8.replace(/[^0-9A-Za-z.-]/g, '_');
  return join(cacheDir, `memusage-${v8}-${process.arch}-${size}-${Math.trunc(mtimeMs)}.v8cache`);
};

/** The cache V8 made of `script`, written whole or not at all (a rename over any older one). */
const writeCodeCache = (script, cacheFile) => {
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(cacheFile), { recursive: true, mode: 0o755 });
    // Before the serialising (milliseconds), which a directory of another user's would waste on every run.
    accessSync(dirname(cacheFile), constants.W_OK);
    writeFileSync(tmp, script.createCachedData(), { mode: 0o644 });
    renameSync(tmp, cacheFile);
    return true;
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {}
    return false;
  }
};

/**
 * Run the CommonJS bundle as require() would, with its code from the cache when V8 takes it. Returns its
 * exports, whether a cache was used, and `writeCache` (defined when there was no cache file: the caller
 * calls it once the command has run, so that the functions it compiled are in the cache).
 */
const loadBundle = (bundle, cacheDir) => {
  const cacheFile = cacheFileFor(bundle, cacheDir);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {}
  // Node's own CommonJS wrapper, on the bundle's first line so that line numbers stay the bundle's.
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${readFileSync(bundle, 'utf8')}\n})`;
  const script = new Script(wrapped, { filename: bundle, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  return {
    exports: module.exports,
    cacheUsed: cachedData !== undefined && !script.cachedDataRejected,
    writeCache: cachedData === undefined ? () => writeCodeCache(script, cacheFile) : undefined,
  };
};

module.exports = { cacheFileFor, loadBundle };
