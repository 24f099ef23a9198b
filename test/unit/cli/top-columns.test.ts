/**
 * `top`'s %MEM and SWAPPSS columns through the CLI on a fixture proc root, every value worked out by hand.
 * Process 500: 2 anonymous pages present (mapped once) and 2 swapped out, the swap entries shared with a
 * forked child that is not measured, so smaps_rollup says Swap 8 kB, SwapPss 4 kB. Process 501: one page.
 * MemTotal 400 kB: PSS 8 kB is 2.0 %, 4 kB is 1.0 %, the TOTAL 12 kB is 3.0 %.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/main.js';
import { takeSnapshot } from '../../../src/index.js';
import { captureIo } from '../../helpers/capture-io.js';
import { KPF, PAGE, ProcTree, type WrittenTree } from '../../helpers/proc-tree.js';

const HEAP = 0x5555_0000_0000;
const ANON = [KPF.UPTODATE, KPF.LRU, KPF.MMAP, KPF.ANON, KPF.SWAPBACKED];

const tree = (rollups: boolean): WrittenTree => {
  const t = new ProcTree();
  t.frames(10, 3, { count: 1, flags: ANON });
  const a = t.process(500);
  a.vma({ start: HEAP, end: HEAP + 4 * PAGE, name: '[heap]' })
    .page(HEAP, { pfn: 10 })
    .page(HEAP + PAGE, { pfn: 11 })
    .page(HEAP + 2 * PAGE, { swap: { type: 0, offset: 100 } })
    .page(HEAP + 3 * PAGE, { swap: { type: 0, offset: 101 } });
  const b = t.process(501);
  b.vma({ start: HEAP, end: HEAP + PAGE, name: '[heap]' }).page(HEAP, { pfn: 12 });
  if (rollups) {
    a.smapsRollup({ Rss: 8, Pss: 8, Pss_Anon: 8, Private_Dirty: 8, Anonymous: 8, Swap: 8, SwapPss: 4 });
    b.smapsRollup({ Rss: 4, Pss: 4, Pss_Anon: 4, Private_Dirty: 4, Anonymous: 4 });
  }
  const w = t.write();
  writeFileSync(join(w.root, 'meminfo'), 'MemTotal:            400 kB\nMemFree:             100 kB\n');
  return w;
};

const cli = async (args: string[], root: string) => {
  const c = captureIo({ columns: 120 });
  const code = await run([...args, '--proc-root', root], c.io);
  return { code, out: c.out(), err: c.err() };
};

describe('top: %MEM and SWAPPSS', () => {
  const full = tree(true);
  const noRollups = tree(false);
  afterAll(() => {
    full.cleanup();
    noRollups.cleanup();
  });

  it('the table: SwapPss from smaps_rollup, PSS as a share of MemTotal, and their totals', async () => {
    const r = await cli(['top', '--once', '-q', '--bytes', '-c', 'pid,swap,swappss,pss,%mem'], full.root);
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n').map((l) => l.trim().split(/\s+/))).toEqual([
      ['PID', 'SWAP', 'SWAPPSS', 'PSS', '%MEM'],
      ['500', '8192', '4096', '8192', '2.0'],
      ['501', '0', '0', '4096', '1.0'],
      ['TOTAL', '8192', '4096', '12288', '3.0'],
      [''],
    ]);
  });

  it('sorting by %mem, CSV with the column ids, and the smaps_rollup engine gives the same', async () => {
    for (const engine of ['pagemap', 'smaps']) {
      const r = await cli(
        ['top', '--csv', '--engine', engine, '-c', 'pid,swappss,%mem', '--sort', '%mem', '-r'],
        full.root,
      );
      expect(r.code, r.err).toBe(0);
      expect(r.out).toBe('pid,swappss,%mem\n501,0,1\n500,4096,2\n');
    }
  });

  it('JSON: swapPss in every record and the machine MemTotal, so %MEM can be computed', async () => {
    const r = await cli(['top', '--json', '-q'], full.root);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out) as { memTotal: number; processes: { pid: number; swapPss: number }[] };
    expect(doc.memTotal).toBe(400 * 1024);
    expect(doc.processes.map((p) => [p.pid, p.swapPss])).toEqual([
      [500, 4096],
      [501, 0],
    ]);
  });

  it('SwapPss that cannot be read is unknown ("-"), not 0; without swap entries it is 0 unread', async () => {
    const r = await cli(['top', '--once', '-q', '--bytes', '-c', 'pid,swappss,pss,%mem'], noRollups.root);
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n').map((l) => l.trim().split(/\s+/))).toEqual([
      ['PID', 'SWAPPSS', 'PSS', '%MEM'],
      ['500', '-', '8192', '2.0'],
      // pagemap shows no swap entry in 501's page tables: its SwapPss is 0 without reading smaps_rollup.
      ['501', '0', '4096', '1.0'],
      ['TOTAL', '-', '12288', '3.0'],
      [''],
    ]);
  });
});

describe('the engine reads SwapPss only when asked', () => {
  const written = tree(true);
  afterAll(written.cleanup);
  it('pagemap engine: null by default, smaps_rollup SwapPss with swapPss: true', () => {
    const swapPssOf = (swapPss: boolean) =>
      takeSnapshot({ procRoot: written.root, pids: [500], engine: 'pagemap', swapPss }).processes[0]!.usage
        .swapPss;
    expect(swapPssOf(false)).toBeNull();
    expect(swapPssOf(true)).toBe(4096);
  });
});
