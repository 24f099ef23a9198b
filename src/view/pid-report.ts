import type { MemUsage } from '../account/usage.js';
import type { ProcessMemory } from '../engine/types.js';
import { displayCommand, escapeTerminal } from './escape.js';
import { formatBytes, type UnitMode } from './units.js';

const line = (pairs: [string, number | null][], mode: UnitMode): string =>
  pairs.map(([label, value]) => `${label} ${formatBytes(value, mode)}`).join('   ');

const usageLines = (u: MemUsage, mode: UnitMode): string[] => [
  `  ${line(
    [
      ['RSS', u.rss],
      ['PSS', u.pss],
      ['USS', u.uss],
      ['Swap', u.swap],
      ['Swap PSS', u.swapPss],
    ],
    mode,
  )}`,
  `  RSS by kind: ${line(
    [
      ['anon', u.anon],
      ['file', u.file],
      ['shmem', u.shmem],
    ],
    mode,
  )}`,
  `  PSS by kind: ${line(
    [
      ['anon', u.pssAnon],
      ['file', u.pssFile],
      ['shmem', u.pssShmem],
    ],
    mode,
  )}`,
  `  ${line(
    [
      ['THP', u.thp],
      ['hugetlb', u.hugetlb],
      ['KSM', u.ksm],
      ['zero page', u.zeroPage],
      ['VSS', u.vss],
    ],
    mode,
  )}`,
];

/** The readable per-process report of `memusage pid`. */
export const renderPidReport = (processes: readonly ProcessMemory[], mode: UnitMode): string => {
  const blocks = processes.map((p) =>
    [
      `${p.pid}  ${escapeTerminal(p.name)}  user ${escapeTerminal(p.user)}`,
      `  command: ${displayCommand(p.cmdline, p.name)}`,
      ...usageLines(p.usage, mode),
    ].join('\n'),
  );
  // The engine and notes go to stderr with the other commands' (cli/commands/pid.ts); this legend explains
  // the report itself.
  if (processes.some((p) => Object.values(p.usage).includes(null))) {
    blocks.push('("-": not measurable by this engine; see memusage(1))');
  }
  return blocks.length === 0 ? '' : `${blocks.join('\n\n')}\n`;
};
