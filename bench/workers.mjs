/**
 * Prototype: does splitting page collection over two threads win on this machine? Each round times
 * one whole pagemap snapshot (list, collect, frame table, accounting) three ways, in rotating order:
 *   single  – everything on the main thread (what the engine does today);
 *   split   – one worker collects every other PID while the main thread collects the rest;
 *   two     – two workers collect half each while the main thread waits.
 * Worker start-up (a fresh isolate importing dist/) is inside the timing, as a CLI run would pay it.
 * Frames are then looked up once for the union, as the engine does.
 *
 *   node bench/workers.mjs [--runs N]   → one JSON document on stdout
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { accountProcess } from '../dist/account/page-account.js';
import { PfnIndex } from '../dist/account/pfn-index.js';
import { probeCapabilities } from '../dist/engine/capabilities.js';
import { readFrameTable } from '../dist/procfs/kpage.js';
import { listPids } from '../dist/procfs/process-dir.js';
import { collectPids, ROOT } from './collect.mjs';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 5;
const caps = probeCapabilities(ROOT);

const inWorker = (pids) =>
  new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./collect-worker.mjs', import.meta.url), { workerData: { pids } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });

/** Every other PID: neighbours in PID order are often alike (a group's children), so this balances. */
const halves = (pids) => [pids.filter((_, i) => i % 2 === 0), pids.filter((_, i) => i % 2 === 1)];

const finish = (parts) => {
  const collected = parts.flatMap((p) => p.collected);
  const index = PfnIndex.build(collected.map((c) => c.pages.pfns));
  const table = readFrameTable(ROOT, index, false);
  let pss = 0;
  for (const c of collected) pss += accountProcess(c.pages, table).pss;
  return { measured: collected.length, pss };
};

const variants = {
  single: async (pids) => finish([collectPids(pids, caps)]),
  split: async (pids) => {
    const [mine, theirs] = halves(pids);
    const pending = inWorker(theirs);
    const local = collectPids(mine, caps);
    return finish([local, await pending]);
  },
  two: async (pids) => {
    const [a, b] = halves(pids);
    return finish(await Promise.all([inWorker(a), inWorker(b)]));
  },
};

const ms = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
const names = Object.keys(variants);
let measured = 0;
for (let round = 0; round < runs + 1; round++) {
  // Rotate the order so no variant always runs first (cold page cache, JIT) or last.
  for (let k = 0; k < names.length; k++) {
    const name = names[(round + k) % names.length];
    const start = performance.now();
    const result = await variants[name](listPids(ROOT));
    const elapsed = performance.now() - start;
    if (round > 0) ms[name].push(elapsed);
    measured = result.measured;
  }
}
process.stdout.write(`${JSON.stringify({ measured, ms })}\n`);
