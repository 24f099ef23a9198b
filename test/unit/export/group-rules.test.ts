/** --group-rules: process-exporter's matchers, first match wins, the rest in "other". */
import { describe, expect, it } from 'vitest';
import type { GroupKeyFields } from '../../../src/engine/groups.js';
import { compileGroupRules, OTHER_GROUP, RuleError } from '../../../src/export/group-rules.js';

const proc = (name: string, cmdline: string[], user = 'root', pid = 1): GroupKeyFields => ({
  pid,
  name,
  cmdline,
  user,
});

describe('compileGroupRules', () => {
  const rules = compileGroupRules({
    process_names: [
      { name: 'db', comm: ['postgres', 'postmaster'] },
      { name: 'java-{{.Matches.app}}', exe: ['/usr/bin/java'], cmdline: ['-Dapp=(?P<app>\\w+)'] },
      { name: 'java', exe: ['java'] },
      { name: '{{.Username}}:{{.ExeBase}}:{{.Comm}}', cmdline: ['--worker'] },
      { name: '{{.ExeFull}}', cmdline: ['^/opt/'] },
    ],
  });

  it('comm: one of the names', () => {
    expect(rules.key(proc('postgres', ['postgres: checkpointer']))).toBe('db');
    expect(rules.key(proc('postmaster', []))).toBe('db');
  });

  it('exe with a "/" is argv[0] exactly; without, its basename; every matcher of an entry must match', () => {
    expect(rules.key(proc('java', ['/usr/bin/java', '-Dapp=billing', '-jar', 'x.jar']))).toBe('java-billing');
    // exe matches but the cmdline regex does not: the next entry (exe by basename) takes it.
    expect(rules.key(proc('java', ['/usr/bin/java', '-jar', 'x.jar']))).toBe('java');
    expect(rules.key(proc('java', ['/opt/jdk/bin/java', '-Dapp=x']))).toBe('java');
  });

  it('templates: Username, ExeBase, Comm, ExeFull; first match wins', () => {
    expect(rules.key(proc('w1', ['/usr/local/bin/pool', '--worker'], 'www'))).toBe('www:pool:w1');
    expect(rules.key(proc('tool', ['/opt/tool/run', '--worker']))).toBe('root:run:tool');
    expect(rules.key(proc('tool', ['/opt/tool/run']))).toBe('/opt/tool/run');
  });

  it('a process no entry matches is in "other"; so is one whose template names nothing', () => {
    expect(rules.key(proc('bash', ['-bash']))).toBe(OTHER_GROUP);
    const empty = compileGroupRules({ process_names: [{ name: '{{.Matches.x}}', cmdline: ['(?<x>a?)b'] }] });
    expect(empty.key(proc('b', ['b']))).toBe(OTHER_GROUP);
  });

  it('{{.PID}}: a group per process, only when asked for, and flagged for a warning', () => {
    const r = compileGroupRules({ process_names: [{ name: '{{.Comm}}-{{.PID}}', comm: ['worker'] }] });
    expect(r.key(proc('worker', [], 'root', 4242))).toBe('worker-4242');
    expect(r.perProcess).toBe(true);
    expect(rules.perProcess).toBe(false);
  });

  it('ExeBase falls back to comm when the command line is empty (a process that cleared it)', () => {
    const r = compileGroupRules({ process_names: [{ name: '{{.ExeBase}}', comm: ['kworkerish'] }] });
    expect(r.key(proc('kworkerish', []))).toBe('kworkerish');
  });

  it.each([
    [null, /process_names/],
    [{ process_names: [] }, /non-empty list/],
    [
      { process_names: [{ name: 'x', comm: 'bash' }] },
      /process_names\[0\]\.comm: expected a non-empty list of strings/,
    ],
    [{ process_names: [{ name: 'x', comm: ['a'] }], extra: 1 }, /unknown key "extra"/],
    [{ process_names: [{ name: '{{.Comm', comm: ['a'] }] }, /unclosed \{\{/],
  ])('rejects %j', (doc, message) => {
    expect(() => compileGroupRules(doc)).toThrow(RuleError);
    expect(() => compileGroupRules(doc)).toThrow(message);
  });
});
