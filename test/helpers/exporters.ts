/**
 * Real programs for the exporter tests: bin/memusage serve, and Debian's prometheus, node_exporter and
 * process-exporter, each on 127.0.0.1 with a port of its own (the kernel's pick) and its data in a temporary
 * directory; never the system services. Everything started here is killed by stop() (tests call it in
 * finally or through the fixture).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './cli.js';

export interface Started {
  child: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A temporary directory removed by the returned function. */
export const tempDir = (prefix: string): { dir: string; remove: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), `memusage-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
};

/** A port nobody listens on right now: bound on 127.0.0.1 port 0, then released. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

const startProcess = (command: string, args: readonly string[]): Started => {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdout?.resume();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
};

/** `memusage serve ARGS` (with --listen 127.0.0.1:0 unless given): resolves once its ready line names the URL. */
export const startServe = async (args: readonly string[]): Promise<Started & { url: string }> => {
  const listen = args.includes('--listen') ? [] : ['--listen', '127.0.0.1:0'];
  const started = startProcess(BIN, ['serve', ...listen, ...args]);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const url = /(https?:\/\/\S+\/metrics)/.exec(started.stderr())?.[1];
    if (url) return { ...started, url };
    if (started.child.exitCode !== null || Date.now() > deadline) {
      await started.stop();
      throw new Error(`memusage serve did not get ready: ${started.stderr()}`);
    }
    await sleep(20);
  }
};

/** Poll `url` until it answers 200 (a program's readiness endpoint). */
const waitHttp = async (url: string, what: Started, name: string): Promise<void> => {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (what.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`${name} did not get ready: ${what.stderr().slice(-2000)}`);
    await sleep(100);
  }
};

export interface Prometheus extends Started {
  base: string;
  /** An instant query's vector: labels and value of each series. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: number }[]>;
}

/** A real Prometheus (Debian's, 2.42) scraping `targets` every second, with its own data directory. */
export const startPrometheus = async (
  dir: string,
  job: { targets: string[]; scheme?: 'http' | 'https'; extra?: string },
): Promise<Prometheus> => {
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: memusage
    scheme: ${job.scheme ?? 'http'}
    static_configs:
      - targets: [${job.targets.map((t) => `'${t}'`).join(', ')}]
${job.extra ?? ''}`,
  );
  const started = startProcess('prometheus', [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitHttp(`${base}/-/ready`, started, 'prometheus');
  } catch (error) {
    await started.stop();
    throw error;
  }
  return {
    ...started,
    base,
    query: async (expr) => {
      const r = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await r.json()) as {
        status: string;
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      if (body.status !== 'success') throw new Error(`query ${expr}: ${JSON.stringify(body)}`);
      return body.data.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
    },
  };
};

/** Query until `check` accepts the result (Prometheus scrapes every second). */
export const eventually = async <T>(
  get: () => Promise<T>,
  check: (value: T) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await get();
    if (check(last)) return last;
    if (Date.now() > deadline)
      throw new Error(`${what}: not reached in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    await sleep(250);
  }
};

/** A program that serves /metrics, started on a free port; waits until it answers. */
export const startExporterProgram = async (
  command: string,
  args: (port: number) => string[],
): Promise<Started & { url: string }> => {
  const port = await freePort();
  const started = startProcess(command, args(port));
  const url = `http://127.0.0.1:${port}/metrics`;
  try {
    await waitHttp(url, started, command);
  } catch (error) {
    await started.stop();
    throw error;
  }
  return { ...started, url };
};

/** Parse a text-format exposition into name{labels} → value (enough for the tests' metrics). */
export const parseExposition = (text: string): Map<string, number> => {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
};
