/**
 * The collection half of the pagemap engine (what runPagemapEngine's collectOne does for each PID:
 * open the directory, header, maps, pagemap), callable from the main thread or a worker. Shared by
 * bench/workers.mjs and bench/collect-worker.mjs so both sides run the same code.
 */
import { probeCapabilities } from '../dist/engine/capabilities.js';
import { isSkipped, readHeader, skipFor } from '../dist/engine/process-header.js';
import { readMaps } from '../dist/procfs/maps.js';
import { PagemapReader } from '../dist/procfs/pagemap.js';
import { closeProcessDir, openProcessDir } from '../dist/procfs/process-dir.js';
import { UserNames } from '../dist/procfs/users.js';

export const ROOT = '/proc';

/** Collect pages of `pids`; returns { collected: [{header, pages}], skipped: [...] }. */
export const collectPids = (pids, caps = probeCapabilities(ROOT)) => {
  const reader = new PagemapReader(caps.scanner);
  const users = new UserNames();
  const collected = [];
  const skipped = [];
  for (const pid of pids) {
    let dir;
    try {
      dir = openProcessDir(ROOT, pid);
    } catch (error) {
      skipped.push(skipFor(pid, error, false));
      continue;
    }
    try {
      const header = readHeader(dir, users, false);
      if (isSkipped(header)) {
        skipped.push(header);
        continue;
      }
      collected.push({ header, pages: reader.read(dir, () => readMaps(dir)) });
    } catch (error) {
      skipped.push(skipFor(pid, error, false));
    } finally {
      closeProcessDir(dir);
    }
  }
  return { collected, skipped };
};

/** The typed arrays of collected pages, to transfer (not copy) them between threads. */
export const transferList = (collected) =>
  collected.flatMap(({ pages }) => [
    pages.pfns.buffer,
    pages.attrs.buffer,
    pages.vmaFirst.buffer,
    pages.swapPages.buffer,
    pages.zeroPagesUnread.buffer,
  ]);
