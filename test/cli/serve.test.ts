/**
 * `memusage serve` over HTTP (the real bin/memusage on 127.0.0.1:0): routes, methods, content negotiation,
 * one snapshot per burst of scrapes, --min-interval and the scrape timeout, TLS with basic auth from a
 * web configuration file, and a client that sends its headers too slowly. It measures one `sleep` (hidden
 * --pid): every snapshot takes milliseconds whatever else runs on the machine.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { hashSync } from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition, startServe, tempDir } from '../helpers/exporters.js';

let sleeper: ChildProcess;
const tmp = tempDir('serve');
beforeAll(() => {
  sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
});
/** Every serve started, stopped at the end too: a test that times out never reaches its own stop. */
const started: { stop: () => Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(started.map((serve) => serve.stop()));
  sleeper.kill();
  tmp.remove();
});

const pidArgs = () => ['--pid', String(sleeper.pid)];

/** The value of one unlabelled metric in a text exposition. */
const metric = (text: string, name: string): number => parseExposition(text).get(name)!;

const withServe = async (args: string[], body: (url: string) => Promise<void>) => {
  const serve = await startServe([...pidArgs(), ...args]);
  started.push(serve);
  try {
    await body(serve.url);
  } finally {
    await serve.stop();
  }
  return serve;
};

describe('serve: routes and formats', () => {
  it('GET /metrics is text 0.0.4; OpenMetrics when Accept prefers it; HEAD has the headers only; 404, 405', async () => {
    const serve = await withServe([], async (url) => {
      const text = await fetch(url);
      expect(text.status).toBe(200);
      expect(text.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const body = await text.text();
      expect(body).toMatch(/^memusage_group_processes\{group="sleep"\} 1$/m);
      expect(body).not.toContain('# EOF');
      // What Prometheus 2.x sends: OpenMetrics first, the text format at q=0.5.
      const om = await fetch(url, {
        headers: {
          Accept:
            'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
        },
      });
      expect(om.headers.get('content-type')).toBe(
        'application/openmetrics-text; version=1.0.0; charset=utf-8',
      );
      const omBody = await om.text();
      expect(omBody.endsWith('# EOF\n')).toBe(true);
      expect(omBody).toContain('# UNIT memusage_group_pss_bytes bytes\n');
      expect(omBody).toContain('# TYPE memusage_build info\n');
      // A scraper that ranks text higher gets text.
      const plain = await fetch(url, {
        headers: { Accept: 'application/openmetrics-text;q=0.3,text/plain' },
      });
      expect(plain.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);

      const head = await fetch(url, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(Number(head.headers.get('content-length'))).toBeGreaterThan(1000);
      expect(await head.text()).toBe('');

      const root = await fetch(url.replace(/metrics$/, ''));
      expect([root.status, root.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
      expect(await root.text()).toContain('<a href="metrics">');
      expect((await fetch(url.replace(/metrics$/, 'favicon.ico'))).status).toBe(404);
      const post = await fetch(url, { method: 'POST' });
      expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
      expect((await fetch(url, { method: 'DELETE' })).status).toBe(405);
    });
    // The ready line: one line, with the URL. SIGTERM ends serve quietly, status 0.
    expect(serve.stderr()).toMatch(
      /^memusage: serving http:\/\/127\.0\.0\.1:\d+\/metrics \((pagemap|smaps_rollup) engine\)\n$/,
    );
    expect(serve.child.exitCode).toBe(0);
  });

  it('a measurement that fails is a 500 with the reason and one line on stderr; serve goes on', async () => {
    const serve = await startServe(['--proc-root', join(tmp.dir, 'no-proc')]);
    try {
      for (let i = 0; i < 2; i++) {
        const r = await fetch(serve.url);
        expect(r.status).toBe(500);
        expect(await r.text()).toMatch(/^measurement failed: .*no-proc/);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(
        serve
          .stderr()
          .split('\n')
          .filter((l) => l.startsWith('memusage: scrape failed: ')),
      ).toHaveLength(2);
    } finally {
      await serve.stop();
    }
  });

  it('ten concurrent scrapes share one snapshot; a later one measures again', async () => {
    await withServe([], async (url) => {
      // Ten connections first, then the ten requests written at once: one burst, whatever the machine's load.
      const { hostname, port } = new URL(url);
      const sockets = await Promise.all(
        Array.from(
          { length: 10 },
          () =>
            new Promise<Socket>((resolve) => {
              const socket: Socket = connect(Number(port), hostname, () => resolve(socket));
            }),
        ),
      );
      const replies = sockets.map(
        (socket) =>
          new Promise<string>((resolve) => {
            let text = '';
            socket.setEncoding('utf8');
            socket.on('data', (d: string) => {
              text += d;
            });
            socket.on('end', () => resolve(text.slice(text.indexOf('\r\n\r\n') + 4)));
          }),
      );
      for (const socket of sockets)
        socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const bodies = await Promise.all(replies);
      const durations = new Set(bodies.map((b) => metric(b, 'memusage_scrape_duration_seconds')));
      expect(durations.size).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const later = await (await fetch(url)).text();
      expect(metric(later, 'memusage_scrape_duration_seconds')).not.toBe([...durations][0]);
      expect(metric(later, 'memusage_snapshot_age_seconds')).toBeLessThan(0.2);
    });
  });

  it('--min-interval reuses a snapshot, and says so in HELP; its age grows', async () => {
    await withServe(['--min-interval', '30'], async (url) => {
      const first = await (await fetch(url)).text();
      await new Promise((resolve) => setTimeout(resolve, 400));
      const second = await (await fetch(url)).text();
      expect(metric(second, 'memusage_scrape_duration_seconds')).toBe(
        metric(first, 'memusage_scrape_duration_seconds'),
      );
      expect(metric(second, 'memusage_snapshot_age_seconds')).toBeGreaterThanOrEqual(0.4);
      expect(second).toMatch(
        /# HELP memusage_snapshot_age_seconds .*reused for scrapes within 30 s of it \(--min-interval\)/,
      );
    });
  });

  it('a scrape timeout shorter than a measurement gets the last snapshot at once, the next a fresh one', async () => {
    await withServe([], async (url) => {
      const first = await (await fetch(url)).text();
      await new Promise((resolve) => setTimeout(resolve, 600));
      // 0.5 s leaves no time to measure (half a second is kept for the reply): the last snapshot it is.
      const hurried = await (
        await fetch(url, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '0.5' } })
      ).text();
      expect(metric(hurried, 'memusage_scrape_duration_seconds')).toBe(
        metric(first, 'memusage_scrape_duration_seconds'),
      );
      expect(metric(hurried, 'memusage_snapshot_age_seconds')).toBeGreaterThanOrEqual(0.6);
      // Meanwhile a fresh one was taken in the background.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const next = await (
        await fetch(url, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '0.5' } })
      ).text();
      expect(metric(next, 'memusage_snapshot_age_seconds')).toBeLessThan(0.6);
    });
  });
});

describe('serve: limits', () => {
  it('a client that trickles its headers is cut off after --request-timeout; others are served meanwhile', async () => {
    await withServe(['--request-timeout', '1'], async (url) => {
      const { hostname, port } = new URL(url);
      const socket = connect(Number(port), hostname);
      const started = Date.now();
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => {
        received += d;
      });
      const closed = new Promise<number>((resolve) =>
        socket.on('close', () => resolve(Date.now() - started)),
      );
      // A header line trickled just after the server's 408 and close meets a reset (ECONNRESET): that is
      // this client's own doing, and 'close' follows it. What is checked is the 408 and when it came.
      socket.on('error', () => {});
      socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
      const trickle = setInterval(() => socket.writable && socket.write('X-Slow: y\r\n'), 200);
      const meanwhile = await fetch(url);
      expect(meanwhile.status).toBe(200);
      const after = await closed;
      clearInterval(trickle);
      expect(after).toBeGreaterThanOrEqual(900);
      expect(after).toBeLessThan(3_000);
      expect(received).toMatch(/^HTTP\/1\.1 408 /);
    });
  });

  it('a second request trickled on a kept-alive connection is cut off too (keep-alive time + --request-timeout)', async () => {
    await withServe(['--request-timeout', '1'], async (url) => {
      const { hostname, port } = new URL(url);
      const socket = connect(Number(port), hostname);
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => {
        received += d;
      });
      socket.on('error', () => {});
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      while (!received.includes('</html>')) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(received).toMatch(/^HTTP\/1\.1 200 /);
      const started = Date.now();
      socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
      const trickle = setInterval(() => socket.writable && socket.write('X-Slow: y\r\n'), 200);
      await closed;
      clearInterval(trickle);
      const after = Date.now() - started;
      // 5 s of keep-alive and 1 s for the request, from the end of the first response.
      expect(after).toBeGreaterThanOrEqual(5_500);
      expect(after).toBeLessThan(8_000);
      expect(received.slice(received.indexOf('</html>'))).toMatch(/HTTP\/1\.1 408 /);
    });
  });

  it('oversized headers: 431; a request body: 413', async () => {
    await withServe([], async (url) => {
      expect((await fetch(url, { headers: { 'X-Big': 'x'.repeat(16 * 1024) } })).status).toBe(431);
      expect(
        (await fetch(url.replace('/metrics', '/'), { method: 'POST', body: 'x'.repeat(100) })).status,
      ).toBe(413);
    });
  });
});

describe('serve: TLS and basic auth (web configuration file)', () => {
  it('refuses a scrape without credentials or with wrong ones, serves one with them, over TLS only', async () => {
    const cert = join(tmp.dir, 'cert.pem');
    const key = join(tmp.dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const config = join(tmp.dir, 'web.yml');
    // Relative file names are relative to the configuration file, as exporter-toolkit reads them.
    writeFileSync(
      config,
      `tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  prometheus: ${hashSync('s3cret', 10)}\n`,
    );
    const ca = readFileSync(cert);
    const get = (url: string, auth?: string) =>
      new Promise<{ status: number; body: string; type: string | undefined; www: string | undefined }>(
        (resolve, reject) => {
          const req = request(url, { ca, ...(auth ? { auth } : {}) }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => {
              body += d;
            });
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                body,
                type: res.headers['content-type'],
                www: res.headers['www-authenticate'],
              }),
            );
          });
          req.on('error', reject);
          req.end();
        },
      );
    const serve = await withServe(['--web.config.file', config], async (url) => {
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const none = await get(url);
      expect([none.status, none.www]).toEqual([401, 'Basic realm="memusage"']);
      expect((await get(url, 'prometheus:wrong')).status).toBe(401);
      expect((await get(url, 'nobody:s3cret')).status).toBe(401);
      const ok = await get(url, 'prometheus:s3cret');
      expect(ok.status).toBe(200);
      expect(ok.body).toContain('memusage_group_pss_bytes{group="sleep"}');
      // A second scrape with the same credentials is served from the verified cache: same answer.
      expect((await get(url, 'prometheus:s3cret')).status).toBe(200);
      // A client guessing passwords gets 429 once the comparisons' budget (a burst of 4, then 2 a second)
      // is spent, instead of taking the event loop; the verified scraper is not held up by it.
      const guesses = await Promise.all(
        Array.from({ length: 20 }, (_, i) => get(url, `prometheus:guess${i}`).then((r) => r.status)),
      );
      expect(guesses.filter((s) => s === 429).length).toBeGreaterThan(0);
      expect(guesses.every((s) => s === 401 || s === 429)).toBe(true);
      expect((await get(url, 'prometheus:s3cret')).status).toBe(200);
      // Plain HTTP on the TLS port gets no metrics.
      const plain = await fetch(url.replace('https:', 'http:')).then(
        (r) => r.status,
        () => 'refused',
      );
      expect(plain).not.toBe(200);
    });
    expect(serve.stderr()).toMatch(/^memusage: serving https:\/\/127\.0\.0\.1:\d+\/metrics/);
  });
});
