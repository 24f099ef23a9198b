/**
 * Usage errors of every command, in process through run(argv, io): what is tested is the argument
 * checking and the one stderr line with exit 2, not bin/memusage (test/cli/ keeps a few of these through
 * the real bin: its sh line, its streams and its exit status). Spawning the bin for each case took most
 * of the time of these tables.
 */
import { describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/main.js';
import { captureIo } from '../../helpers/capture-io.js';

const capture = () => captureIo({ env: { ...process.env, NO_COLOR: '1' } });

const CASES: [string[], RegExp][] = [
  // top
  [['top', '--columns', 'pid,bogus'], /unknown column 'bogus'/],
  [['top', '--columns', ','], /--columns needs at least one column/],
  [['top', '--sort', 'bogus'], /unknown sort column 'bogus'/],
  [['top', '--min', '10Q'], /'10Q' is not a size/],
  [['top', '--min', '-1M'], /'-1M' is not a size/],
  [['top', '--process', '(unclosed'], /--process: invalid regular expression '\(unclosed'/],
  [['top', '--interval', '0'], /0 s is outside 0.01..86400 seconds/],
  [['top', '--interval', 'soon'], /'soon' is not a number of seconds/],
  [['top', '--watch', '-1'], /outside 0.01..86400 seconds/],
  [['top', '--watch', 'x'], /'x' is not a number of seconds/],
  [['top', '--limit', '0'], /'0' is not a positive whole number/],
  [['top', '--limit', '2.5'], /'2.5' is not a positive whole number/],
  [['top', '--by', 'foo'], /cannot group by 'foo'/],
  [['top', '--json', '--csv'], /--json and --csv cannot be combined/],
  [['top', '--once', '--watch', '1'], /--once and --watch cannot be combined/],
  [['top', '--pid', 'abc'], /'abc' is not a process ID/],
  [['top', '--user', 'no-such-user-memusage'], /--user: no such user 'no-such-user-memusage'/],
  [['top', '--engine', 'fast'], /'fast' is not an engine/],
  [['top', '--frobnicate'], /unknown option '--frobnicate'/],
  // pid
  [['pid', 'abc'], /'abc' is not a process ID/],
  [['pid', '0'], /outside the PID range/],
  [['pid', '-5'], /'-5' is not a process ID/],
  [['pid', '99999999'], /outside the PID range/],
  [['pid'], /missing required argument 'pid'/],
  [['pid', '1', '--psss'], /unknown option '--psss'.*--pss/],
  [['pid', '1', '--engine', 'fast'], /'fast' is not an engine/],
  [['pid', '1', '--json', '--csv'], /--json and --csv cannot be combined/],
  [['pid', '1', '--pss', '--json'], /--pss prints bare numbers/],
  [['frobnicate'], /unknown command 'frobnicate'/],
  // maps, libs, shared, system
  [['maps'], /missing required argument 'pid'/],
  [['maps', 'abc'], /'abc' is not a process ID/],
  [['maps', '1', '--sort', 'bogus'], /unknown sort key 'bogus' \(known: address, name/],
  [['maps', '1', '--json', '--csv'], /--json and --csv cannot be combined/],
  [['maps', '1', '--limit', '0'], /'0' is not a positive whole number/],
  [['shared', '1'], /shared needs at least two different PIDs/],
  [['shared', '1', '1'], /shared needs at least two different PIDs/],
  [['libs', '--lib', '('], /--lib: invalid regular expression '\('/],
  [['libs', '--sort', 'size'], /unknown sort key 'size'/],
  [['system', '--json', '--csv'], /--json and --csv cannot be combined/],
  // wss
  [['wss', '--anon', '--file', '1'], /^memusage: --anon and --file cannot be combined$/],
  [['wss', '--method', 'guess', '1'], /'guess' is not a working-set method \(auto, clear-refs, idle\)/],
];

describe('usage errors, in process: exit 2, nothing on stdout, one stderr line', () => {
  it.each(CASES)('%j', async (args, pattern) => {
    const c = capture();
    expect(await run(args, c.io)).toBe(2);
    expect(c.out()).toBe('');
    const lines = c.err().split('\n');
    // One line, ended by a newline.
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1)).toEqual([expect.stringMatching(/^memusage: /)]);
    expect(lines[0]).toMatch(pattern);
  });
});
