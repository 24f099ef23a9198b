/** `memusage help` and each command's --help through the real bin/memusage: exit codes, one-line errors, examples. */
import { describe, expect, it } from 'vitest';
import { runCli, stderrLines } from '../helpers/cli.js';

describe('memusage help', () => {
  it('an unknown command is one line and exit 2; a known one prints its help, exit 0', () => {
    const bogus = runCli(['help', 'bogus']);
    expect(bogus.exitCode).toBe(2);
    expect(bogus.stdout).toBe('');
    expect(stderrLines(bogus)).toEqual([expect.stringMatching(/^memusage: unknown command 'bogus'/)]);
    const pid = runCli(['help', 'pid']);
    expect(pid.exitCode).toBe(0);
    expect(pid.stdout).toMatch(/^Usage: memusage pid \[options\] <pid\.\.\.>/);
    const main = runCli(['help']);
    expect(main.exitCode).toBe(0);
    expect(main.stdout).toMatch(/^Usage: memusage \[options\] \[command\]/);
  });

  it('--help of maps, libs, shared and system has examples and --json', () => {
    for (const command of ['maps', 'libs', 'shared', 'system']) {
      const r = runCli([command, '--help']);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/Examples:/);
      expect(r.stdout).toMatch(/--json/);
    }
  });
});
