import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/main.js';
import { captureIo } from '../../helpers/capture-io.js';
import { ProcTree, type WrittenTree } from '../../helpers/proc-tree.js';

const HEAP = 0x5555_0000_0000;

/** One process whose comm and argv carry a terminal escape (OSC 0: set the window title). */
const tree = (): WrittenTree => {
  const t = new ProcTree();
  t.frame(10, { count: 1, flags: [3, 5, 11, 12, 14] });
  // argv[1] carries DEL and a C1 CSI (U+009B), which JSON.stringify leaves raw.
  t.process(500, { comm: 'evil\u001b]0;x\u0007', cmdline: ['evil\u001b]0;x\u0007', '--f\u007f\u009b2J'] })
    .vma({ start: HEAP, end: HEAP + 4096, name: '[heap]' })
    .page(HEAP, { pfn: 10 });
  return t.write();
};

const fakeIo = (isTTY: boolean) =>
  captureIo({ isTTY, columns: 120, env: { NO_COLOR: '1', MEMUSAGE_NO_NATIVE: '1' } });

describe('JSON and CSV on a terminal', () => {
  const written = tree();
  afterAll(written.cleanup);

  it('CSV into a pipe is exact; on a terminal its control characters are made visible', async () => {
    const piped = fakeIo(false);
    expect(await run(['pid', '500', '--csv', '--proc-root', written.root], piped.io)).toBe(0);
    expect(piped.out()).toContain('evil\u001b]0;x\u0007');

    const tty = fakeIo(true);
    expect(await run(['pid', '500', '--csv', '--proc-root', written.root], tty.io)).toBe(0);
    expect(tty.out()).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(tty.out()).toContain('evil\\x1b]0;x\\x07');
  });

  it('JSON on a terminal has no raw control character and still parses to the exact strings', async () => {
    const tty = fakeIo(true);
    expect(await run(['pid', '500', '--json', '--proc-root', written.root], tty.io)).toBe(0);
    expect(tty.out()).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    const doc = JSON.parse(tty.out()) as { processes: { name: string; argv: string[] }[] };
    expect(doc.processes[0]!.name).toBe('evil\u001b]0;x\u0007');
    expect(doc.processes[0]!.argv).toEqual(['evil\u001b]0;x\u0007', '--f\u007f\u009b2J']);
  });
});
