import { InvalidArgumentError } from '@commander-js/extra-typings';
import type { EngineChoice } from '../engine/types.js';
import { parseSize } from '../view/units.js';
import { UsageError } from './errors.js';

/** Largest PID the kernel can hand out (PID_MAX_LIMIT, 2^22). */
const PID_MAX = 4_194_304;

export const parsePid = (text: string): number => {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError(`'${text}' is not a process ID`);
  const pid = Number(text);
  if (pid < 1 || pid > PID_MAX)
    throw new InvalidArgumentError(`${text} is outside the PID range 1..${PID_MAX}`);
  return pid;
};

/** "12,34 56" → [12, 34, 56]; accumulates over repeated options. */
export const parsePidList = (text: string, previous: number[] = []): number[] => [
  ...previous,
  ...text
    .split(/[\s,]+/)
    .filter((s) => s !== '')
    .map(parsePid),
];

export const parseEngine = (text: string): EngineChoice => {
  if (text === 'auto' || text === 'pagemap' || text === 'smaps') return text;
  throw new InvalidArgumentError(`'${text}' is not an engine (auto, pagemap, smaps)`);
};

export const parseSizeOption = (text: string): number => {
  const bytes = parseSize(text);
  if (bytes === undefined) throw new InvalidArgumentError(`'${text}' is not a size (e.g. 512K, 10M, 1.5G)`);
  return bytes;
};

/** Seconds, fractional allowed; at least 10 ms and at most a day. */
export const parseSeconds = (text: string): number => {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new InvalidArgumentError(`'${text}' is not a number of seconds`);
  if (value < 0.01 || value > 86_400)
    throw new InvalidArgumentError(`${text} s is outside 0.01..86400 seconds`);
  return value;
};

export const parsePositiveInt = (text: string): number => {
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new InvalidArgumentError(`'${text}' is not a positive whole number`);
  return Number(text);
};

/** A JavaScript regular expression given to `option`; a bad one is a usage error naming the option. */
export const parseRegexOption = (option: string, text: string | undefined): RegExp | undefined => {
  if (text === undefined) return undefined;
  try {
    return new RegExp(text);
  } catch (error) {
    const why = error instanceof Error ? error.message.replace(/^.*: /, '') : String(error);
    throw new UsageError(`${option}: invalid regular expression '${text}': ${why}`);
  }
};
