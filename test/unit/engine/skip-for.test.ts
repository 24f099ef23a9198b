import { describe, expect, it } from 'vitest';
import { skipFor } from '../../../src/engine/process-header.js';
import { DescriptorLimitError } from '../../../src/procfs/descriptors.js';
import { ProcError } from '../../../src/procfs/errors.js';

const failure = (errno: string) =>
  new ProcError('malformed', '/proc/42/stat', `/proc/42/stat: ${errno}`, errno);

describe('skipFor', () => {
  it('a process that failed for lack of a descriptor stops the snapshot, naming ulimit -n', () => {
    const skip = () => skipFor(42, failure('EMFILE'), false, '/proc');
    expect(skip).toThrow(DescriptorLimitError);
    expect(skip).toThrow(/^PID 42 could not be measured: no file descriptor left \(EMFILE\): .*ulimit -n/);
  });

  it('the system-wide table full (ENFILE) is named as such', () => {
    expect(() => skipFor(42, failure('ENFILE'), false, '/proc')).toThrow(/open-file table is full \(ENFILE/);
  });

  it('any other I/O failure is still the process left out', () => {
    expect(skipFor(42, failure('EIO'), false, '/proc')).toMatchObject({ pid: 42, reason: 'error' });
  });
});
