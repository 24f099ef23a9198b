/**
 * In-process timing of the pagemap engine, by phase. Run as its own process (by run.mjs) so that the
 * first run is as cold as a CLI run. It calls the engine's own building blocks from dist/ in the order
 * runPagemapEngine (src/engine/pagemap-engine.ts) calls them, with a clock around each; the whole
 * takeDetailedSnapshot is timed too, so a drift between this copy of the order and the engine shows.
 *
 *   node bench/phases.mjs [--runs N] [--flags]   → one JSON document on stdout
 */
import { performance } from 'node:perf_hooks';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 5;
const withFlags = args.includes('--flags');

const t0 = performance.now();
const { accountProcess } = await import('../dist/account/page-account.js');
const { PfnIndex } = await import('../dist/account/pfn-index.js');
const { probeCapabilities } = await import('../dist/engine/capabilities.js');
const { isSkipped, readHeader, skipFor } = await import('../dist/engine/process-header.js');
const { takeDetailedSnapshot } = await import('../dist/engine/snapshot.js');
const { readFrameTable } = await import('../dist/procfs/kpage.js');
const { readMaps } = await import('../dist/procfs/maps.js');
const { PagemapReader } = await import('../dist/procfs/pagemap.js');
const { closeProcessDir, listPids, openProcessDirs } = await import('../dist/procfs/process-dir.js');
const { ProcError } = await import('../dist/procfs/errors.js');
const { UserNames } = await import('../dist/procfs/users.js');
const engineImportMs = performance.now() - t0;
const t1 = performance.now();
await import('../dist/cli/main.js');
const cliImportMs = performance.now() - t1;

const ROOT = '/proc';
const caps = probeCapabilities(ROOT);
if (!caps.frames) {
  process.stdout.write(`${JSON.stringify({ error: caps.framesReason })}\n`);
  process.exit(1);
}

/** The scanner, wrapped so the PAGEMAP_SCAN ioctl's share of "pagemap" can be told apart. */
let scanMs = 0;
const scanner = caps.scanner && {
  scan(...a) {
    const s = performance.now();
    try {
      return caps.scanner.scan(...a);
    } finally {
      scanMs += performance.now() - s;
    }
  },
};

/** One snapshot, phase by phase, the same calls as runPagemapEngine. */
const phasedSnapshot = () => {
  const ms = {
    list: 0,
    openRead: 0,
    header: 0,
    maps: 0,
    pagemap: 0,
    pfnIndex: 0,
    frameTable: 0,
    account: 0,
  };
  scanMs = 0;
  const users = new UserNames();
  let s = performance.now();
  const lap = (key) => {
    const now = performance.now();
    ms[key] += now - s;
    s = now;
  };
  const pids = listPids(ROOT);
  lap('list');
  // As runPagemapEngine: PAGEMAP_SCAN only for processes with a large mapping unless flags are wanted.
  const reader = new PagemapReader(scanner, withFlags);
  const collected = [];
  let skipped = 0;
  // As measureProcesses: directories opened in batches of 128, header files and maps read with them
  // (two threads with the addon), pagemap opened first and, for processes without a large mapping, read
  // with them too (so "pagemap" below is then mostly the sparse processes' PAGEMAP_SCAN path).
  for (let start = 0; start < pids.length; start += 128) {
    const chunk = pids.slice(start, start + 128);
    const dirs = openProcessDirs(ROOT, chunk, ['stat', 'status', 'cmdline', 'maps'], {
      openFirst: 'pagemap',
      pagemapBelow: reader.prefetchBelow,
    });
    lap('openRead');
    for (const [i, dir] of dirs.entries()) {
      if (dir instanceof ProcError) {
        skipFor(chunk[i], dir, false);
        skipped++;
        continue;
      }
      try {
        const header = readHeader(dir, users, false);
        lap('header');
        if (isSkipped(header)) {
          skipped++;
          continue;
        }
        const vmas = readMaps(dir);
        lap('maps');
        const pages = reader.read(dir, () => vmas);
        lap('pagemap');
        collected.push({ header, pages });
      } catch (error) {
        skipFor(dir.pid, error, false);
        skipped++;
        lap('header');
      } finally {
        closeProcessDir(dir);
      }
    }
  }
  s = performance.now();
  const index = PfnIndex.build(collected.map((c) => c.pages.pfns));
  lap('pfnIndex');
  const table = readFrameTable(ROOT, index, withFlags);
  lap('frameTable');
  for (const c of collected) accountProcess(c.pages, table);
  lap('account');
  let pages = 0;
  let vmas = 0;
  for (const c of collected) {
    pages += c.pages.pfns.length;
    vmas += c.pages.vmas.length;
  }
  ms.scanIoctl = scanMs;
  ms.total = Object.entries(ms).reduce((sum, [k, v]) => (k === 'scanIoctl' ? sum : sum + v), 0);
  return {
    ms,
    counts: { pids: pids.length, measured: collected.length, skipped, vmas, pages, frames: index.size },
  };
};

const wholeSnapshot = () => {
  const s = performance.now();
  takeDetailedSnapshot({ engine: 'pagemap', flags: withFlags }, caps);
  return performance.now() - s;
};

// Run 0 is cold (first call of every function, as in `memusage top --once`); the rest are warm.
const phased = [];
const whole = [];
for (let i = 0; i < runs + 1; i++) {
  phased.push(phasedSnapshot());
  whole.push(wholeSnapshot());
}
process.stdout.write(
  `${JSON.stringify({
    engineImportMs,
    cliImportMs,
    scanner: caps.scanner !== undefined,
    flags: withFlags,
    cold: phased[0],
    warm: phased.slice(1),
    // takeDetailedSnapshot itself, each call right after a phased run (so never cold).
    wholeMs: whole,
    maxRssKib: process.resourceUsage().maxRSS,
  })}\n`,
);
