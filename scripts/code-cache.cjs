// node scripts/code-cache.cjs BUNDLE CACHE: compile BUNDLE the way bin/memusage does (Module.wrap, vm.Script,
// same file name) and write V8's code cache for it. --no-lazy is switched on for the compile only, so the
// cache holds every function, not just the top level; it is switched off again before the cache is made,
// because V8 accepts a cache only under the flags it was made with, and bin/memusage runs with the defaults.
//
// V8 checks a cache against the source's length, not its content: a same-length edit of the bundle would
// run the cached old code. So the cache starts with a header naming the bundle it was made from (its size
// and modification time, which any edit or copy changes), and bin/memusage uses it only for that file.
'use strict';
const { readFileSync, statSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { setFlagsFromString } = require('node:v8');
const { Script } = require('node:vm');

/** "memusage", then the bundle's size and mtime in nanoseconds, as little-endian u64s. */
const MAGIC = 'memusage';

const [bundle, out] = process.argv.slice(2);
const source = readFileSync(bundle, 'utf8');
const { size, mtimeNs } = statSync(bundle, { bigint: true });
setFlagsFromString('--no-lazy');
const script = new Script(Module.wrap(source), { filename: bundle });
setFlagsFromString('--lazy');
const header = Buffer.alloc(24);
header.write(MAGIC, 0, 'latin1');
header.writeBigUInt64LE(size, 8);
header.writeBigUInt64LE(mtimeNs, 16);
writeFileSync(out, Buffer.concat([header, script.createCachedData()]));
