/**
 * The bench's heavy populations (issue 10), each started in its own process group and torn down with
 * it: a database-like tree from test/helpers/dbhog.c, and thousands of small `sleep` processes. Every
 * started population is also registered for teardown at exit, on SIGINT/SIGTERM and on SIGHUP, so an
 * interrupted or failed benchmark leaves nothing behind (the bench's own synchronous timing loop lets a
 * signal handler run only once it returns; the command it was timing gets the terminal's Ctrl-C too,
 * fails, and the error path tears down).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { buildHelper, firstLine, killGroup } from './population.mjs';

/** The database-like populations of issue 10: shared MiB, children, private MiB each. */
export const DB_POPULATIONS = {
  'db-50m': { sharedMib: 2048, children: 100, privateMib: 8 },
  'db-200m': { sharedMib: 4096, children: 200, privateMib: 4 },
};
export const MANY_SLEEPERS = 3000;

const live = new Set();
let handlersInstalled = false;
const tearDownAll = () => {
  for (const teardown of [...live]) teardown();
};
const installHandlers = () => {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', tearDownAll);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ]) {
    process.on(signal, () => {
      tearDownAll();
      process.exit(code);
    });
  }
};

/** Kill a process group (and the listed pids, in case one left it); idempotent. */
const registerGroup = (pgid, pidsOf) => {
  installHandlers();
  let done = false;
  const teardown = () => {
    if (done) return;
    done = true;
    live.delete(teardown);
    killGroup(pgid);
    for (const pid of pidsOf()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };
  live.add(teardown);
  return teardown;
};

/**
 * Start dbhog SHARED CHILDREN PRIVATE. Returns {pids, pages, built, teardown}: `pages` is the sum of
 * every process's mapped pages the helper built (the parent maps the shared region too), `built` the
 * group's RSS = USS in bytes.
 */
export const startDbPopulation = async ({ sharedMib, children, privateMib }) => {
  const binary = buildHelper('dbhog');
  const child = spawn(binary, [String(sharedMib), String(children), String(privateMib)], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let pids = [];
  const teardown = registerGroup(child.pid, () => pids);
  try {
    // Each child faults the whole shared region in; 200 children over 4 GiB take about a minute on 2 cores.
    const line = JSON.parse(await firstLine(child, `dbhog ${sharedMib} ${children} ${privateMib}`, 600_000));
    pids = line.pids;
    const page = 4096;
    return {
      pids,
      pages: ((children + 1) * line.shared + children * line.private) / page,
      built: {
        sharedBytes: line.shared,
        privateBytes: line.private,
        groupBytes: line.shared + children * line.private,
      },
      teardown: () => {
        child.stdin.destroy();
        teardown();
      },
    };
  } catch (error) {
    teardown();
    throw error;
  }
};

/** PIDs in process group `pgid` whose comm is `comm`, from /proc/PID/stat. */
const groupMembers = (pgid, comm) => {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    // After comm: state ppid pgrp.
    if (Number(fields[2]) === pgid && stat.slice(stat.indexOf('(') + 1, close) === comm)
      out.push(Number(name));
  }
  return out;
};

/**
 * Start `count` `sleep` processes from one sh in its own process group; the sh kills its whole group
 * when its stdin closes (so the population dies with this process even on SIGKILL). Resolves once every
 * sleep has exec'd.
 */
export const startSleepers = async (count) => {
  const script = `i=0; while [ $i -lt ${count} ]; do sleep 1000000 & i=$((i+1)); done; echo ready; read x; kill -9 0`;
  const child = spawn('sh', ['-c', script], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  let pids = [];
  const teardown = registerGroup(child.pid, () => pids);
  try {
    await firstLine(child, `${count} sleep processes`, 120_000);
    const deadline = Date.now() + 60_000;
    for (;;) {
      pids = groupMembers(child.pid, 'sleep');
      if (pids.length >= count) break;
      if (Date.now() > deadline) throw new Error(`only ${pids.length} of ${count} sleep processes started`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return {
      pids,
      teardown: () => {
        child.stdin.destroy();
        teardown();
      },
    };
  } catch (error) {
    teardown();
    throw error;
  }
};

/** Resident set of a process in KiB (VmRSS), or undefined once it is gone. */
export const rssKib = (pid) => {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
};
