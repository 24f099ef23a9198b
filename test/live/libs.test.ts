/**
 * `libs` for a file only memhogs map: it counts exactly those processes, its pages once in RSS, and their
 * shares in PSS (every page of the file has 4 mappings: 1 + 1 + 2).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { probeCapabilities } from '../../src/engine/capabilities.js';
import { measureLibs } from '../../src/engine/libs.js';
import { UserNames } from '../../src/procfs/users.js';
import { memhogTest, TEST_CACHE_DIR } from '../helpers/memhog.js';
import { requireRoot } from '../helpers/require-root.js';

const MiB = 1024 * 1024;
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.skipIf(!requireRoot())('libs on memhog (live, root)', () => {
  let dataDir = '';
  beforeAll(() => {
    mkdirSync(TEST_CACHE_DIR, { recursive: true });
    dataDir = mkdtempSync(join(TEST_CACHE_DIR, 'libs-'));
  });
  afterAll(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  memhogTest('a file mapped by three memhogs (one twice)', async ({ memhog }) => {
    const path = join(dataDir, 'lib.so');
    writeFileSync(path, Buffer.alloc(8 * MiB, 0x3c));
    const hogs = [
      await memhog(['file', path, '8']),
      await memhog(['file', path, '8']),
      await memhog(['file2', path, '8']),
    ];
    const { files } = measureLibs(
      { procRoot: '/proc', lib: new RegExp(`^${escapeRegex(path)}$`) },
      probeCapabilities('/proc'),
      new UserNames(),
    );
    expect(files).toHaveLength(1);
    const f = files[0]!;
    expect(f.users.map((u) => u.pid).sort()).toEqual(hogs.map((h) => h.pid).sort());
    // 2048 pages, each mapped 4 times: RSS once each = 8 MiB; librank RSS 4 x 8 MiB; PSS 4 quarters = 8 MiB.
    expect(f).toMatchObject({
      processes: 3,
      vss: 32 * MiB,
      rss: 8 * MiB,
      mappedRss: 32 * MiB,
      pss: 8 * MiB,
      uss: 0,
      avgPss: Math.floor((8 * MiB) / 3),
    });
    const twice = f.users.find((u) => u.pid === hogs[2]!.pid)!;
    expect(twice).toMatchObject({ mappings: 2, rss: 16 * MiB, pss: 4 * MiB, uss: 0 });
  });
});
