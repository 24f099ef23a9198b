import { describe, expect, it } from 'vitest';
import { distributeRounding } from '../../../src/account/vma-account.js';

const ONE = 4096; // one byte in PSS fixed point

describe('distributeRounding', () => {
  it('gives the lost bytes to the largest remainders', () => {
    // Rows 10.25, 20.75, 30.5 bytes: floors 10 + 20 + 30 = 60; total floor(61.5) = 61 -> one byte to 20.75.
    const fixed = Float64Array.from([10.25 * ONE, 20.75 * ONE, 30.5 * ONE]);
    expect(Array.from(distributeRounding(fixed, 61))).toEqual([10, 21, 30]);
  });

  it('ties go to the earlier row', () => {
    const fixed = Float64Array.from([0.5 * ONE, 0.5 * ONE, 0.5 * ONE]);
    expect(Array.from(distributeRounding(fixed, 1))).toEqual([1, 0, 0]);
  });

  it('exact rows are left alone', () => {
    const fixed = Float64Array.from([3 * ONE, 4 * ONE]);
    expect(Array.from(distributeRounding(fixed, 7))).toEqual([3, 4]);
  });
});
