/**
 * Bad input to `serve` and `export`: one line on stderr, exit 2 for what the user typed or wrote in a file
 * given on the command line, 1 for what the machine refused (an address in use, an unwritable textfile).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, stderrLines } from '../helpers/cli.js';
import { tempDir } from '../helpers/exporters.js';

const tmp = tempDir('exporter-errors');
afterAll(() => tmp.remove());

const file = (name: string, text: string): string => {
  const path = join(tmp.dir, name);
  writeFileSync(path, text);
  return path;
};

/** The exit status and the single stderr line of a run that fails before measuring anything. */
const failure = (args: string[]) => {
  const r = runCli(args);
  const lines = stderrLines(r);
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stdout).toBe('');
  return { code: r.exitCode, line: lines[0]! };
};

describe('serve: bad input', () => {
  let busy: Server;
  let busyPort = 0;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

  it.each([
    ['localhost', /--listen: 'localhost' is not HOST:PORT/],
    ['127.0.0.1:99999', /--listen: port 99999 is outside 0..65535/],
    ['127.0.0.1:', /is not HOST:PORT/],
  ])('--listen %s: exit 2', (listen, message) => {
    const { code, line } = failure(['serve', '--listen', listen]);
    expect(code).toBe(2);
    expect(line).toMatch(message);
  });

  it('a port in use: exit 1, naming the address', () => {
    const { code, line } = failure(['serve', '--listen', `127.0.0.1:${busyPort}`]);
    expect([code, line]).toEqual([
      1,
      `memusage: cannot listen on 127.0.0.1:${busyPort}: address already in use (EADDRINUSE)`,
    ]);
  });

  it('an address not on this host: exit 1', () => {
    const { code, line } = failure(['serve', '--listen', '192.0.2.1:9000']);
    expect(code).toBe(1);
    expect(line).toMatch(/address not available on this host \(EADDRNOTAVAIL\)/);
  });

  it.each([
    ['missing.yml', undefined, /--web.config.file .*missing.yml: cannot read: ENOENT/],
    ['bad-yaml.yml', 'basic_auth_users: [\n', /not valid YAML/],
    ['unknown-key.yml', 'tls_config:\n  cert_file: x\n', /unknown or unsupported key "tls_config"/],
    [
      'plain-password.yml',
      'basic_auth_users:\n  prometheus: secret\n',
      /basic_auth_users.prometheus: not a bcrypt hash/,
    ],
    [
      'no-cert.yml',
      'tls_server_config:\n  cert_file: nope.pem\n  key_file: nope.key\n',
      /cannot read certificate: ENOENT/,
    ],
    ['bad-version.yml', 'tls_server_config:\n  min_version: SSL3\n', /min_version: expected one of TLS10/],
    [
      'not-pem.yml',
      'tls_server_config:\n  cert_file: not-pem.yml\n  key_file: not-pem.yml\n',
      /the certificate, key or client CA does not load/,
    ],
  ])('--web.config.file %s: exit 2', (name, text, message) => {
    const path = text === undefined ? join(tmp.dir, name) : file(name, text);
    const { code, line } = failure(['serve', '--listen', '127.0.0.1:0', '--web.config.file', path]);
    expect(code).toBe(2);
    expect(line).toMatch(message);
  });
});

describe('serve and export: bad grouping', () => {
  it.each(['serve', 'export'])(
    '%s: --by, --group-rules and --max-groups are checked before measuring',
    (command) => {
      expect(failure([command, '--by', 'colour']).line).toBe(
        "memusage: cannot group by 'colour' (command, user, cgroup, unit)",
      );
      expect(failure([command, '--max-groups', 'many']).code).toBe(2);
      const rules = file('ok.yml', 'process_names:\n  - name: x\n    comm: [x]\n');
      expect(failure([command, '--by', 'user', '--group-rules', rules]).line).toBe(
        'memusage: --by and --group-rules cannot be combined',
      );
    },
  );

  it.each([
    ['no-list.yml', 'names: []\n', /expected a mapping with a non-empty list "process_names"/],
    ['no-name.yml', 'process_names:\n  - comm: [bash]\n', /process_names\[0\]: "name" is required/],
    [
      'no-matcher.yml',
      'process_names:\n  - name: x\n',
      /process_names\[0\]: needs at least one of comm, exe, cmdline/,
    ],
    [
      'bad-regex.yml',
      "process_names:\n  - name: x\n    cmdline: ['(']\n",
      /process_names\[0\].cmdline\[0\]: bad regex "\("/,
    ],
    ['bad-field.yml', 'process_names:\n  - name: "{{.Pid}}"\n    comm: [x]\n', /unknown field \{\{\.Pid\}\}/],
    ['unknown-key.yml', 'process_names:\n  - name: x\n    pid: [1]\n', /unknown key "pid"/],
  ])('--group-rules %s: exit 2, naming the file and the entry', (name, text, message) => {
    const path = file(name, text);
    const { code, line } = failure(['export', '--group-rules', path]);
    expect(code).toBe(2);
    expect(line).toContain(`--group-rules ${path}: `);
    expect(line).toMatch(message);
  });

  it('{{.PID}} in a rule: a group per process, and one warning line about cardinality', () => {
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const rules = file(
        'per-pid.yml',
        'process_names:\n  - name: "{{.Comm}}-{{.PID}}"\n    comm: [sleep]\n',
      );
      const r = runCli(['export', '--group-rules', rules, '--pid', String(sleeper.pid)]);
      expect(r.exitCode).toBe(0);
      expect(stderrLines(r)).toEqual([
        expect.stringMatching(/^memusage: warning: .*\{\{\.PID\}\}.*series of its own/),
      ]);
      expect(r.stdout).toContain(`memusage_group_processes{group="sleep-${sleeper.pid}"} 1\n`);
    } finally {
      sleeper.kill();
    }
  });

  it('export --output into a missing directory: exit 2 before measuring', () => {
    const { code, line } = failure(['export', '--output', join(tmp.dir, 'nope', 'memusage.prom')]);
    expect(code).toBe(2);
    expect(line).toMatch(/--output: directory .*nope does not exist/);
  });
});
