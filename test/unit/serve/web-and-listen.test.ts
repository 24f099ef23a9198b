/** Pure parts of serve: --listen, Accept negotiation, the web configuration file, basic auth. */
import { hashSync } from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { unitOfCgroup } from '../../../src/engine/groups.js';
import { BasicAuth } from '../../../src/serve/basic-auth.js';
import { parseListen, urlOf } from '../../../src/serve/listen.js';
import { negotiateFormat } from '../../../src/serve/negotiate.js';
import { parseWebConfig, WebConfigError } from '../../../src/serve/web-config.js';

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:9256', { host: '127.0.0.1', port: 9256 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
    ['[::1]:80', { host: '::1', port: 80 }],
    ['localhost:8080', { host: 'localhost', port: 8080 }],
  ])('%s', (text, address) => expect(parseListen(text)).toEqual(address));

  it.each(['9256', ':9256', '::1:80', 'host:port', '1.2.3.4:65536', 'a b:1'])(
    '%s is not an address',
    (text) => expect(typeof parseListen(text)).toBe('string'),
  );

  it('URLs bracket IPv6 hosts', () => {
    expect(urlOf('http', '::1', 9)).toBe('http://[::1]:9/metrics');
    expect(urlOf('https', '127.0.0.1', 9)).toBe('https://127.0.0.1:9/metrics');
  });
});

describe('negotiateFormat', () => {
  it.each([
    [undefined, 'text'],
    ['*/*', 'text'],
    ['text/plain;version=0.0.4', 'text'],
    [
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      'openmetrics',
    ],
    ['application/openmetrics-text; version=1.0.0', 'openmetrics'],
    ['application/openmetrics-text;q=0.5,text/plain;q=0.5', 'text'],
    ['application/openmetrics-text;q=0.2,*/*;q=0.3', 'text'],
  ] as const)('%s → %s', (accept, format) => expect(negotiateFormat(accept)).toBe(format));
});

describe('unitOfCgroup (--by unit)', () => {
  it.each([
    ['/system.slice/ssh.service', 'ssh.service'],
    ['/user.slice/user-1000.slice/session-3.scope', 'session-3.scope'],
    ['/user.slice/user-1000.slice/user@1000.service/app.slice/vte-spawn-1.scope', 'vte-spawn-1.scope'],
    [
      '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-ab.scope',
      'cri-containerd-ab.scope',
    ],
    ['/system.slice/docker-0123.scope/init', 'docker-0123.scope'],
    ['/user.slice', 'user.slice'],
    ['/', '/'],
    ['/lxc/web', '/lxc/web'],
  ])('%s → %s', (path, unit) => expect(unitOfCgroup(path)).toBe(unit));
});

const noFiles = (path: string) => `contents of ${path}`;

describe('parseWebConfig', () => {
  const hash = hashSync('pw', 4);

  it('an empty file asks for nothing', () => {
    expect(parseWebConfig(null, noFiles)).toEqual({ tls: undefined, users: new Map(), headers: {} });
  });

  it('reads TLS files, users and headers', () => {
    const config = parseWebConfig(
      {
        tls_server_config: { cert_file: 'c.pem', key_file: 'k.pem', min_version: 'TLS13' },
        http_server_config: { headers: { 'X-Frame-Options': 'deny' } },
        basic_auth_users: { prometheus: hash },
      },
      noFiles,
    );
    expect(config.tls).toMatchObject({
      cert: 'contents of c.pem',
      key: 'contents of k.pem',
      clientAuth: 'NoClientCert',
      minVersion: 'TLSv1.3',
    });
    expect([...config.users]).toEqual([['prometheus', hash]]);
    expect(config.headers).toEqual({ 'X-Frame-Options': 'deny' });
  });

  it.each([
    [[1], /expected a mapping/],
    [
      { tls_server_config: { cert_file: 'c', key_file: 'k', cipher_suites: ['x'] } },
      /unknown or unsupported key "cipher_suites"/,
    ],
    [
      {
        tls_server_config: { cert_file: 'c', key_file: 'k', client_auth_type: 'RequireAndVerifyClientCert' },
      },
      /needs client_ca_file/,
    ],
    [
      { tls_server_config: { cert_file: 'c', key_file: 'k', client_auth_type: 'Sometimes' } },
      /client_auth_type: expected one of/,
    ],
    [{ tls_server_config: { key_file: 'k' } }, /cert_file: expected a file name/],
    [{ basic_auth_users: { u: '$2y$10$short' } }, /not a bcrypt hash/],
    [{ http_server_config: { headers: { 'X-A': 'a\r\nInjected: 1' } } }, /bad header/],
  ])('rejects %j', (doc, message) => {
    expect(() => parseWebConfig(doc, noFiles)).toThrow(WebConfigError);
    expect(() => parseWebConfig(doc, noFiles)).toThrow(message);
  });
});

describe('BasicAuth', () => {
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it('accepts the right password, refuses others, unknown users and malformed headers', () => {
    const auth = new BasicAuth(new Map([['prometheus', hashSync('s3cret', 4)]]));
    expect(auth.check(basic('prometheus', 's3cret'))).toBe('ok');
    expect(auth.check(basic('prometheus', 's3cret'))).toBe('ok');
    expect(auth.check(basic('prometheus', 'S3cret'))).toBe('denied');
    expect(auth.check(basic('nobody', 's3cret'))).toBe('denied');
    expect(auth.check(undefined)).toBe('denied');
    expect(auth.check('Bearer abc')).toBe('denied');
    expect(auth.check(`Basic ${Buffer.from('no-colon').toString('base64')}`)).toBe('denied');
  });

  it('without users everything passes', () => {
    expect(new BasicAuth(new Map()).check(undefined)).toBe('ok');
  });

  it('bounds the bcrypt comparisons of new passwords; a verified pair needs none', () => {
    let t = 0;
    const auth = new BasicAuth(new Map([['prometheus', hashSync('s3cret', 4)]]), {
      now: () => t,
      burst: 3,
      perSecond: 2,
    });
    expect(auth.check(basic('prometheus', 's3cret'))).toBe('ok');
    // Two more comparisons are left in the burst, then none until the clock moves.
    expect(auth.check(basic('prometheus', 'guess1'))).toBe('denied');
    expect(auth.check(basic('prometheus', 'guess2'))).toBe('denied');
    expect(auth.check(basic('prometheus', 'guess3'))).toBe('busy');
    expect(auth.check(basic('nobody', 'x'))).toBe('busy');
    // Wrong tries neither cost the verified pair its place nor a comparison.
    expect(auth.check(basic('prometheus', 's3cret'))).toBe('ok');
    t += 499;
    expect(auth.check(basic('prometheus', 'guess3'))).toBe('busy');
    t += 1;
    expect(auth.check(basic('prometheus', 'guess3'))).toBe('denied');
    expect(auth.check(basic('prometheus', 'guess4'))).toBe('busy');
  });

  it('wrong pairs are not remembered: many of them cannot evict the right one', () => {
    let t = 0;
    const auth = new BasicAuth(new Map([['prometheus', hashSync('s3cret', 4)]]), {
      now: () => t,
      burst: 1,
      perSecond: 1,
    });
    expect(auth.check(basic('prometheus', 's3cret'))).toBe('ok');
    for (let i = 0; i < 100; i++) {
      t += 1000;
      expect(auth.check(basic('prometheus', `guess${i}`))).toBe('denied');
    }
    // No time has passed since the last comparison: only a remembered pair can pass now.
    expect(auth.check(basic('prometheus', 's3cret'))).toBe('ok');
    expect(auth.check(basic('prometheus', 'guess0'))).toBe('busy');
  });
});
