// Required (NODE_OPTIONS=--require) into bin/memusage by test/cli/malloc-policy.test.ts. Once the command
// is done it allocates and frees large C-heap blocks the way measurement after measurement does (a dozen
// typed arrays of 0.25 to 16 MiB each, with smaller longer-lived ones allocated in between), and prints
// the most the resident size grew: the CLI's malloc policy (native/malloc_policy.c) must keep it flat.
const v8 = require('node:v8');
const vm = require('node:vm');
const { readFileSync } = require('node:fs');
const { setTimeout: sleep } = require('node:timers/promises');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const rssKib = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'latin1'))[1]);

// A fixed pseudo-random sequence: every run allocates the same sizes.
let seed = 1;
const random = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};

const churn = async () => {
  const live = [];
  const start = rssKib();
  let most = 0;
  for (let round = 0; round < 15; round++) {
    let large = [];
    for (let i = 0; i < 12; i++) {
      large.push(new Uint8Array(Math.floor((0.25 + random() * 15.75) * 2 ** 20)).fill(1));
      if (random() < 0.5) {
        live.push(new Uint8Array(1000 + Math.floor(random() * 100_000)).fill(1));
        if (live.length > 40) live.shift();
      }
    }
    large = undefined;
    gc();
    // V8 frees dead array buffers on a background thread after the collection.
    await sleep(100);
    most = Math.max(most, rssKib() - start);
  }
  process.stderr.write(`heap-churn: grew by at most ${most} KiB\n`);
};

let done = false;
process.on('beforeExit', () => {
  if (done) return;
  done = true;
  churn();
});
