import { describe, expect, it } from 'vitest';
import { parseMeminfo } from '../../../src/parse/meminfo.js';

describe('parseMeminfo', () => {
  it('kB fields become bytes, unit-less huge page counts stay counts', () => {
    const m = parseMeminfo(
      'MemTotal:       24683656 kB\nActive(anon):       1552 kB\nHugePages_Total:       3\nHugepagesize:       2048 kB\nbogus line\n',
    );
    expect(m.bytes).toEqual({
      MemTotal: 24_683_656 * 1024,
      'Active(anon)': 1_552 * 1024,
      Hugepagesize: 2_097_152,
    });
    expect(m.counts).toEqual({ HugePages_Total: 3 });
  });
});
