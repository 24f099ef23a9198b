/** StdWriter: direct writes, the hand-over to the stream when a pipe would block, and failures. */
import { describe, expect, it } from 'vitest';
import { StdWriter, type StdWriterDeps } from '../../../src/cli/std-writer.js';

const errno = (code: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: x, write`), { code });

/** A descriptor that takes at most `chunk` bytes a call and throws the queued errors first. */
const fakeDeps = (direct: boolean, chunk: number, errors: (string | undefined)[] = []) => {
  const written: string[] = [];
  const bytesWritten: Buffer[] = [];
  const streamed: string[] = [];
  const failures: string[] = [];
  const deps: StdWriterDeps = {
    direct: () => direct,
    write: (_fd, bytes, offset) => {
      const code = errors.shift();
      if (code) throw errno(code);
      const n = Math.min(chunk, bytes.length - offset);
      bytesWritten.push(Buffer.from(bytes.subarray(offset, offset + n)));
      written.push(bytesWritten.at(-1)!.toString());
      return n;
    },
    stream: () => ({
      write: (chunk: string | Uint8Array) => streamed.push(Buffer.from(chunk).toString()),
    }),
    failed: (error) => failures.push(error.code ?? ''),
  };
  return { deps, written, bytesWritten, streamed, failures };
};

describe('StdWriter', () => {
  it('writes a direct descriptor with write(2) until every byte is taken, multi-byte text included', () => {
    const f = fakeDeps(true, 3);
    new StdWriter(1, f.deps).write('né 12345');
    // 9 bytes in calls of at most 3: the second call starts inside no character, the text is whole.
    expect([Buffer.concat(f.bytesWritten).toString(), f.bytesWritten.length, f.streamed]).toEqual([
      'né 12345',
      3,
      [],
    ]);
  });

  it('goes through the stream for any other descriptor (a terminal)', () => {
    const f = fakeDeps(false, 100);
    const w = new StdWriter(1, f.deps);
    w.write('a');
    w.write('b');
    expect([f.written, f.streamed, w.direct]).toEqual([[], ['a', 'b'], false]);
  });

  it('hands the rest to the stream when the descriptor would block, and every later write too', () => {
    const f = fakeDeps(true, 4, [undefined, 'EAGAIN']);
    const w = new StdWriter(1, f.deps);
    w.write('abcdefgh');
    w.write('ij');
    expect([f.written, f.streamed]).toEqual([['abcd'], ['efgh', 'ij']]);
  });

  it('retries an interrupted write and reports any other error once, writing nothing more of that text', () => {
    const interrupted = fakeDeps(true, 100, ['EINTR']);
    new StdWriter(2, interrupted.deps).write('abc');
    expect([interrupted.written, interrupted.failures]).toEqual([['abc'], []]);
    const full = fakeDeps(true, 2, [undefined, 'ENOSPC']);
    new StdWriter(2, full.deps).write('abcdef');
    expect([full.written, full.streamed, full.failures]).toEqual([['ab'], [], ['ENOSPC']]);
  });
});
