import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DescriptorLimitError,
  MAX_BATCH,
  parseOpenFilesLimit,
  processBatchSize,
  RESERVED_DESCRIPTORS,
  readDescriptorBudget,
} from '../../../src/procfs/descriptors.js';

const LIMITS = (soft: string, hard: string) =>
  'Limit                     Soft Limit           Hard Limit           Units     \n' +
  'Max cpu time              unlimited            unlimited            seconds   \n' +
  `Max open files            ${soft.padEnd(20)} ${hard.padEnd(20)} files     \n` +
  'Max locked memory         8388608              8388608              bytes     \n';

describe('parseOpenFilesLimit', () => {
  it('reads the soft limit, not the hard one', () => {
    expect(parseOpenFilesLimit(LIMITS('40', '1048576'))).toBe(40);
  });
  it('unlimited is Infinity; a text without the line is undefined', () => {
    expect(parseOpenFilesLimit(LIMITS('unlimited', 'unlimited'))).toBe(Number.POSITIVE_INFINITY);
    expect(
      parseOpenFilesLimit('Limit Soft Hard\nMax cpu time unlimited unlimited seconds\n'),
    ).toBeUndefined();
  });
});

describe('readDescriptorBudget', () => {
  const dir = mkdtempSync(join(tmpdir(), 'memusage-fd-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('counts the entries of fd/ but the listing’s own descriptor', () => {
    const self = join(dir, 'self');
    mkdirSync(join(self, 'fd'), { recursive: true });
    for (const fd of ['0', '1', '2', '3', '7']) writeFileSync(join(self, 'fd', fd), '');
    writeFileSync(join(self, 'limits'), LIMITS('64', '64'));
    expect(readDescriptorBudget(self)).toEqual({ limit: 64, open: 4 });
  });

  it('this process: the real soft limit, and at least stdin, stdout and stderr open', () => {
    const budget = readDescriptorBudget();
    expect(budget).toBeDefined();
    expect(budget!.open).toBeGreaterThanOrEqual(3);
    expect(budget!.limit).toBeGreaterThan(budget!.open);
  });

  it('undefined when the directory cannot tell', () => {
    expect(readDescriptorBudget(join(dir, 'missing'))).toBeUndefined();
  });
});

describe('processBatchSize', () => {
  it('what is free after the reserve, per process, at most MAX_BATCH', () => {
    // 40 - 19 open - reserve = 15 free: 7 processes holding 2 descriptors, 15 holding 1.
    const budget = { limit: 40, open: 19 };
    expect(processBatchSize(2, budget)).toBe(Math.floor((40 - 19 - RESERVED_DESCRIPTORS) / 2));
    expect(processBatchSize(1, budget)).toBe(40 - 19 - RESERVED_DESCRIPTORS);
    expect(processBatchSize(2, { limit: 20_000, open: 19 })).toBe(MAX_BATCH);
    expect(processBatchSize(2, { limit: Number.POSITIVE_INFINITY, open: 19 })).toBe(MAX_BATCH);
  });

  it('exactly enough for one process is one', () => {
    expect(processBatchSize(2, { limit: 19 + RESERVED_DESCRIPTORS + 2, open: 19 })).toBe(1);
  });

  it('not enough for one process: DescriptorLimitError naming ulimit -n and the figures', () => {
    const short = () => processBatchSize(2, { limit: 20, open: 18 });
    expect(short).toThrow(DescriptorLimitError);
    expect(short).toThrow(/limit is 20 \(ulimit -n\) and 18 are open; measuring needs 8 free/);
  });

  it('an unknown budget keeps the usual batch', () => {
    expect(processBatchSize(2, undefined)).toBe(MAX_BATCH);
  });
});
