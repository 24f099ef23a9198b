/** The /proc text parsers (src/parse), on lines in the kernel's exact formats. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PF_KTHREAD } from '../../../src/kernel/task-flags.js';
import { parseMaps, parseMapsLine } from '../../../src/parse/maps.js';
import { parseSmaps, parseSmapsRollup } from '../../../src/parse/smaps.js';
import { parseStat } from '../../../src/parse/stat.js';
import { parseStatus, parseStatusBytes, statusBytes, statusEuid } from '../../../src/parse/status.js';

describe('maps lines', () => {
  it.each([
    [
      '55bb0629b000-55bb0629d000 r--p 00000000 fe:00 260131                     /usr/bin/cat',
      {
        start: 0x55bb_0629_b000,
        end: 0x55bb_0629_d000,
        perms: 'r--p',
        offset: 0,
        dev: 'fe:00',
        inode: 260131,
        name: '/usr/bin/cat',
      },
    ],
    [
      // anonymous: the kernel ends the line with one space
      '5558b002c000-5558b003c000 rw-p 00000000 00:00 0 ',
      { start: 0x5558_b002_c000, end: 0x5558_b003_c000, perms: 'rw-p', inode: 0, name: '' },
    ],
    ['00400000-00401000 r-xp 00000000 00:00 0', { start: 0x40_0000, end: 0x40_1000, name: '' }],
    [
      '7f3a1c000000-7f3a1c021000 rw-s 0001a000 00:01 1234                       /memfd:my shm (deleted)',
      { offset: 0x1_a000, dev: '00:01', inode: 1234, perms: 'rw-s', name: '/memfd:my shm (deleted)' },
    ],
    [
      '7f3a1d000000-7f3a1d001000 r--p 00000000 fe:00 99                         /tmp/dir with  two spaces/x.so',
      { name: '/tmp/dir with  two spaces/x.so' },
    ],
    [
      '7ffd3b7c4000-7ffd3b7e5000 rw-p 00000000 00:00 0                          [stack]',
      { start: 0x7ffd_3b7c_4000, end: 0x7ffd_3b7e_5000, name: '[stack]' },
    ],
    // The vsyscall gate: 0xffffffffff600000 is above 2^53 but a multiple of 2^12, so exact as a double.
    [
      'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
      {
        start: Number(0xffff_ffff_ff60_0000n),
        end: Number(0xffff_ffff_ff60_1000n),
        perms: '--xp',
        name: '[vsyscall]',
      },
    ],
  ])('%s', (line, expected) => {
    expect(parseMapsLine(line)).toMatchObject(expected);
  });

  it.each([
    '',
    'garbage',
    'Rss:                   8 kB',
    'VmFlags: rd wr mr mw me ac ',
    '00400000 r-xp 00000000 00:00 0',
  ])('not a maps line: %j', (line) => {
    expect(parseMapsLine(line)).toBeUndefined();
  });

  it('reads every line of every process here as a regular expression of the format does', () => {
    // The reference: the format as one expression (what the parser used before it was written by hand).
    const reference = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+)(?: +(.*))?$/;
    const lines: string[] = [];
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        lines.push(...readFileSync(`/proc/${pid}/maps`, 'latin1').split('\n'));
      } catch {
        // gone, or not ours to read
      }
    }
    expect(lines.length).toBeGreaterThan(100);
    lines.push(
      ...[
        'Rss:   8 kB',
        'VmFlags: rd wr mr ',
        '1-2 r--p 0 0:0 7x',
        '1-2 r--p 0 0:0',
        '1-2  r--p 0 0:0 1',
        'A-2 r--p 0 0:0 1',
      ],
      '1-2 r\u00a0-p 0 0:0 1',
      '1-2 r--p 0 0:0 12345678901234567890 /big inode',
    );
    for (const line of lines) {
      const m = reference.exec(line);
      const expected = m
        ? {
            start: Number.parseInt(m[1]!, 16),
            end: Number.parseInt(m[2]!, 16),
            perms: m[3],
            offset: Number.parseInt(m[4]!, 16),
            dev: m[5],
            inode: Number(m[6]),
            name: m[7] ?? '',
          }
        : undefined;
      expect(parseMapsLine(line), JSON.stringify(line)).toEqual(expected);
    }
  });

  it('keeps a carriage return in a file name (the kernel escapes only the newline)', () => {
    expect(parseMapsLine('7f00-7f01 r--p 00000000 fe:00 9     /tmp/a\rb')?.name).toBe('/tmp/a\rb');
    expect(
      parseMaps('1000-2000 r--p 0 fe:00 9  /x\r\n3000-4000 rw-p 0 00:00 0 \n').map((v) => v.name),
    ).toEqual(['/x\r', '']);
  });

  it('parseMaps keeps every mapping but [vsyscall], in order', () => {
    const text = [
      '00400000-00401000 r-xp 00000000 fe:00 12                                 /bin/x',
      '01000000-01021000 rw-p 00000000 00:00 0                                  [heap]',
      '7ffd3b7c4000-7ffd3b7e5000 rw-p 00000000 00:00 0                          [stack]',
      'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
      '',
    ].join('\n');
    expect(parseMaps(text).map((v) => v.name)).toEqual(['/bin/x', '[heap]', '[stack]']);
  });
});

describe('stat', () => {
  const tail = (flags: number, start: number) =>
    `1 1 0 -1 ${flags} 120 0 0 0 3 1 0 0 20 0 1 0 ${start} 12288 3 18446744073709551615 ${'0 '.repeat(27).trim()}\n`;

  it.each([
    [
      // /proc/self/stat of `cat` on the reference VM
      '6925 (cat) R 6918 6918 5048 0 -1 4194304 103 0 0 0 0 0 0 0 20 0 1 0 65776 3133440 384 18446744073709551615 94320217509888 94320217529769 140736122780016 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 94320217545776 94320217547392 94321240248320 140736122788567 140736122788587 140736122788587 140736122789867 0\n',
      { comm: 'cat', state: 'R', ppid: 6918, flags: 4_194_304, startTime: 65_776 },
    ],
    [`7 (a) b (c) S 5 ${tail(0x40_0000, 99)}`, { comm: 'a) b (c', state: 'S', ppid: 5, startTime: 99 }],
    [`8 (\x1b[31mred)) Z 5 ${tail(0x40_4044, 100)}`, { comm: '\x1b[31mred)', state: 'Z', flags: 0x40_4044 }],
    [`9 (two\nlines) D 1 ${tail(0, 101)}`, { comm: 'two\nlines', state: 'D', startTime: 101 }],
    [`10 () S 1 ${tail(0, 102)}`, { comm: '', state: 'S' }],
  ])('%j', (text, expected) => {
    expect(parseStat(text)).toMatchObject(expected);
  });

  it("reads every process's stat here, and odd spacing, as splitting the fields does", () => {
    // The reference: the fields after the last ')' split at single spaces (the parser before it walked them).
    const reference = (text: string) => {
      const open = text.indexOf('(');
      const close = text.lastIndexOf(')');
      if (open < 0 || close < open) return undefined;
      const rest = text
        .slice(close + 2)
        .trimEnd()
        .split(' ');
      if (rest.length < 20) return undefined;
      return {
        comm: text.slice(open + 1, close),
        state: rest[0]!,
        ppid: Number(rest[1]),
        flags: Number(rest[6]),
        startTime: Number(rest[19]),
      };
    };
    const texts: string[] = [];
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        texts.push(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        // gone
      }
    }
    expect(texts.length).toBeGreaterThan(10);
    const twenty = Array.from({ length: 20 }, (_, i) => String(i + 1));
    texts.push(
      `1 (x) ${twenty.join(' ')}`,
      `1 (x) ${twenty.slice(0, 19).join(' ')}`,
      `1 (x) ${twenty.join(' ')} \n\t `,
      `1 (x) ${twenty.join('  ')}`,
      `1 (x)`,
      `1 (x) `,
      `1 (x)${twenty.join(' ')}`,
      `1 (x) S 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 \u00a0`,
    );
    for (const text of texts) expect(parseStat(text), JSON.stringify(text)).toEqual(reference(text));
  });

  it('a kernel thread carries PF_KTHREAD (0x00200000) in field 9', () => {
    const stat = parseStat(`2 (kthreadd) S 0 ${tail(0x20_8040, 3)}`);
    expect(PF_KTHREAD).toBe(0x20_0000);
    expect(stat?.flags).toBe(0x20_8040);
    expect((stat?.flags ?? 0) & 0x20_0000).not.toBe(0);
  });

  it.each(['', '12 cat R 1 2 3', '12 (cat) R 1 2 3 4 5 6 7 8 9\n', '12 (cat R 1'])(
    'malformed: %j',
    (text) => {
      expect(parseStat(text)).toBeUndefined();
    },
  );
});

describe('status', () => {
  const text = [
    'Name:\ta\tb\\nc', // TAB raw, newline escaped (proc_task_name)
    'State:\tS (sleeping)',
    'Uid:\t1000\t0\t1000\t1000',
    'VmSize:\t    5308 kB',
    'VmRSS:\t     844 kB',
    'HugetlbPages:\t    2048 kB',
    'Kthread:\t0',
    '',
  ].join('\n');
  const fields = parseStatus(text);

  it.each([
    ['VmSize', 5308 * 1024],
    ['VmRSS', 844 * 1024],
    ['HugetlbPages', 2_097_152],
    ['VmSwap', undefined], // absent (kernel threads and zombies have no Vm* lines)
  ])('statusBytes(%s) = %s', (key, bytes) => {
    expect(statusBytes(fields, key)).toBe(bytes);
  });

  it('keeps raw values after the colon', () => {
    expect(fields.get('Name')).toBe('a\tb\\nc');
    expect(fields.get('State')).toBe('S (sleeping)');
  });

  it('reads each field as a map of every line would, whichever field is asked for', () => {
    // The reference: every line split at its first colon, the value trimmed, the last repeat winning.
    const reference = (t: string) =>
      new Map(
        t
          .split('\n')
          .filter((l) => l.indexOf(':') > 0)
          .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as const),
      );
    const texts = [
      text,
      readFileSync('/proc/self/status', 'utf8'),
      'Name:\tfirst\nVmRSS:\t 1 kB\nName:\tsecond', // repeated key, no final newline
      'a:b: c\n:x\nVmSwap:\t 2 kB\r\n\nVmRSS', // colon in a value, empty key, CR, no colon
    ];
    // The same from the file's bytes (readStatus), with a name that is not ASCII.
    texts.push('Name:\tcaf\u00e9 \u2603\nUid:\t5\t6\t7\t8\n', 'VmRSS:\t 3 kB');
    for (const t of texts) {
      const ref = reference(t);
      for (const lazy of [parseStatus(t), parseStatusBytes(Buffer.from(t, 'utf8'))]) {
        for (const key of [...ref.keys(), 'a:b', '', 'Missing', 'Name\nVmRSS', 'VmRSS', 'Nam', 'VmRSS:']) {
          expect(lazy.get(key), `${key} of ${JSON.stringify(t.slice(0, 30))}`).toBe(ref.get(key));
          expect(lazy.has(key)).toBe(ref.has(key));
        }
        expect([...lazy]).toEqual([...ref]);
        expect(lazy.size).toBe(ref.size);
      }
    }
  });

  it.each([
    ['Uid:\t1000\t0\t1000\t1000', 0],
    ['Uid:\t0\t4242\t0\t0', 4242],
    ['Name:\tx', undefined],
  ])('the effective uid of %j is %s', (line, uid) => {
    expect(statusEuid(parseStatus(line))).toBe(uid);
  });
});

describe('smaps and smaps_rollup', () => {
  const kb = (key: string, n: number) => `${`${key}:`.padEnd(16)}${String(n).padStart(8)} kB`;

  it('smaps_rollup: every "Key: N kB" line, nothing else', () => {
    const text = [
      '55bb0629b000-7ffd3b7e5000 ---p 00000000 00:00 0                          [rollup]',
      kb('Rss', 1628),
      kb('Pss', 1234),
      kb('Pss_Anon', 300),
      kb('Private_Dirty', 96),
      kb('Private_Hugetlb', 0),
      kb('Size', 1_073_741_824),
      'THPeligible:           0',
      '',
    ].join('\n');
    expect(parseSmapsRollup(text)).toEqual({
      Rss: 1628,
      Pss: 1234,
      Pss_Anon: 300,
      Private_Dirty: 96,
      Private_Hugetlb: 0,
      Size: 1_073_741_824,
    });
  });

  it('smaps: one entry per mapping with its own fields', () => {
    const text = [
      '564a81186000-564a81188000 r--p 00000000 fe:00 260131                     /usr/bin/cat',
      kb('Size', 8),
      kb('Rss', 8),
      'THPeligible:           0',
      'VmFlags: rd mr mw me ',
      '7f0000000000-7f0100000000 rw-p 00000000 00:00 0 ',
      kb('Size', 4_194_304),
      kb('Rss', 0),
      kb('Swap', 12),
      'VmFlags: rd wr mr mw me ac ',
      '7f3a1c000000-7f3a1c021000 rw-s 00000000 00:01 1234                       /memfd:a b (deleted)',
      kb('Rss', 4),
      '',
    ].join('\n');
    const entries = parseSmaps(text);
    expect(entries.map((e) => [e.vma.start, e.vma.name, e.fields])).toEqual([
      [0x564a_8118_6000, '/usr/bin/cat', { Size: 8, Rss: 8 }],
      [0x7f00_0000_0000, '', { Size: 4_194_304, Rss: 0, Swap: 12 }],
      [0x7f3a_1c00_0000, '/memfd:a b (deleted)', { Rss: 4 }],
    ]);
  });
});
