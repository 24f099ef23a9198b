// node scripts/code-cache.cjs BUNDLE CACHE: compile BUNDLE the way bin/memusage does (Module.wrap, vm.Script,
// same file name) and write V8's code cache for it. --no-lazy is switched on for the compile only, so the
// cache holds every function, not just the top level; it is switched off again before the cache is made,
// because V8 accepts a cache only under the flags it was made with, and bin/memusage runs with the defaults.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { setFlagsFromString } = require('node:v8');
const { Script } = require('node:vm');

const [bundle, out] = process.argv.slice(2);
setFlagsFromString('--no-lazy');
const script = new Script(Module.wrap(readFileSync(bundle, 'utf8')), { filename: bundle });
setFlagsFromString('--lazy');
writeFileSync(out, script.createCachedData());
