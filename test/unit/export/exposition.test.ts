/** Golden expositions: both formats written out by hand, hostile label values included. */
import { describe, expect, it } from 'vitest';
import {
  escapeLabelValue,
  type Family,
  renderExposition,
  wellFormed,
} from '../../../src/export/exposition.js';

const families: Family[] = [
  {
    name: 'memusage_group_pss_bytes',
    help: 'PSS with a \\ and a\nnewline and "quotes".',
    type: 'gauge',
    unit: 'bytes',
    samples: [
      { labels: { group: 'q"uote' }, value: 4096 },
      { labels: { group: 'back\\slash' }, value: 1.5 },
      { labels: { group: 'new\nline' }, value: 0 },
      { labels: { group: 'esc\u001b[31m' }, value: 12 },
      { labels: { group: 'bad\ud800utf' }, value: 3 },
    ],
  },
  { name: 'memusage_machine_processes', help: 'Processes.', type: 'gauge', samples: [{ value: 7 }] },
  {
    name: 'memusage_build',
    help: 'Version.',
    type: 'info',
    samples: [{ labels: { version: '0.1.0', engine: 'pagemap' }, value: 1 }],
  },
];

describe('renderExposition', () => {
  it('text format 0.0.4: HELP escapes \\ and newline only; label values \\, " and newline; info is a gauge', () => {
    expect(renderExposition(families, 'text')).toBe(
      [
        '# HELP memusage_group_pss_bytes PSS with a \\\\ and a\\nnewline and "quotes".',
        '# TYPE memusage_group_pss_bytes gauge',
        'memusage_group_pss_bytes{group="q\\"uote"} 4096',
        'memusage_group_pss_bytes{group="back\\\\slash"} 1.5',
        'memusage_group_pss_bytes{group="new\\nline"} 0',
        'memusage_group_pss_bytes{group="esc\u001b[31m"} 12',
        'memusage_group_pss_bytes{group="bad\ufffdutf"} 3',
        '# HELP memusage_machine_processes Processes.',
        '# TYPE memusage_machine_processes gauge',
        'memusage_machine_processes 7',
        '# HELP memusage_build_info Version.',
        '# TYPE memusage_build_info gauge',
        'memusage_build_info{version="0.1.0",engine="pagemap"} 1',
        '',
      ].join('\n'),
    );
  });

  it('OpenMetrics 1.0: UNIT, the info type, quotes escaped in HELP, and # EOF', () => {
    expect(renderExposition(families, 'openmetrics')).toBe(
      [
        '# HELP memusage_group_pss_bytes PSS with a \\\\ and a\\nnewline and \\"quotes\\".',
        '# TYPE memusage_group_pss_bytes gauge',
        '# UNIT memusage_group_pss_bytes bytes',
        'memusage_group_pss_bytes{group="q\\"uote"} 4096',
        'memusage_group_pss_bytes{group="back\\\\slash"} 1.5',
        'memusage_group_pss_bytes{group="new\\nline"} 0',
        'memusage_group_pss_bytes{group="esc\u001b[31m"} 12',
        'memusage_group_pss_bytes{group="bad\ufffdutf"} 3',
        '# HELP memusage_machine_processes Processes.',
        '# TYPE memusage_machine_processes gauge',
        'memusage_machine_processes 7',
        '# HELP memusage_build Version.',
        '# TYPE memusage_build info',
        'memusage_build_info{version="0.1.0",engine="pagemap"} 1',
        '# EOF',
        '',
      ].join('\n'),
    );
  });

  it("non-finite values use the formats' spellings", () => {
    const text = renderExposition(
      [
        {
          name: 'x',
          help: 'x',
          type: 'gauge',
          samples: [{ value: Number.NaN }, { value: Number.POSITIVE_INFINITY }, { value: -Infinity }],
        },
      ],
      'text',
    );
    expect(text.split('\n').slice(2, 5)).toEqual(['x NaN', 'x +Inf', 'x -Inf']);
  });
});

describe('label values', () => {
  it('lone surrogates (no UTF-8 can carry them) become U+FFFD; pairs stay', () => {
    expect(wellFormed('a\udc00b\ud83d\ude00c\ud83d')).toBe('a\ufffdb\ud83d\ude00c\ufffd');
    expect(Buffer.from(escapeLabelValue('\udfff"'), 'utf8').toString('utf8')).toBe('\ufffd\\"');
  });
});
