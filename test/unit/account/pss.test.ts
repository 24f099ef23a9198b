import { describe, expect, it } from 'vitest';
import { PSS_PAGE, pssBytes, pssShare } from '../../../src/account/pss.js';

describe('PSS fixed point (fs/proc/task_mmu.c, PSS_SHIFT 12)', () => {
  it('one page is 4096 << 12', () => {
    expect(PSS_PAGE).toBe(16_777_216);
  });

  it.each([
    [1, 16_777_216],
    [2, 8_388_608],
    [3, 5_592_405], // 16 777 216 / 3 = 5 592 405.33
    [5, 3_355_443], // 3 355 443.2
    [7, 2_396_745], // 2 396 745.14
    [32, 524_288], // a KSM page used by 32 PTEs
    [179, 93_727], // the vdso page: 93 727.46
  ])('a page mapped %i times adds floor(16 777 216 / n) = %i', (count, share) => {
    expect(pssShare(count)).toBe(share);
  });

  it.each([
    [0, 0],
    [4_095, 0],
    [16_777_215, 4_095], // 3 pages of count 3
    [16_777_216, 4_096],
    [33_554_430, 8_191], // 6 pages of count 3: per-page byte floors would say 6 * 1365 = 8 190
    [117_440_510, 28_671],
  ])('%i in fixed point is %i bytes (shifted once)', (fixed, bytes) => {
    expect(pssBytes(fixed)).toBe(bytes);
  });
});
