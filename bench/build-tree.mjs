/**
 * `memusage run` following a build-like tree (issue 10: it must keep flat memory): 250 short jobs run 4
 * at a time, as `make -j4` runs its recipes (xargs -P 4; each job is a sh running `sleep 0.3`, then
 * `head | md5sum` over 4 MB), so 1,002 processes start and exit over about 20 s. memusage's own RSS is
 * sampled every 200 ms: after its first 3 s (start-up done, V8's heap grown to its working size), the
 * largest, and the last before it exits.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { rssKib } from './heavy-populations.mjs';
import { killGroup } from './population.mjs';

export const BUILD_JOBS = 250;
/** Each job: its sh, sleep, head and md5sum; plus the tree's own sh and xargs. */
export const BUILD_PROCESSES = BUILD_JOBS * 4 + 2;
const SCRIPT = `seq ${BUILD_JOBS} | xargs -P 4 -n 1 sh -c 'sleep 0.3; head -c 4000000 /dev/zero | md5sum > /dev/null'`;

export const measureBuildTree = async (cli) => {
  const started = Date.now();
  const child = spawn(cli, ['run', '--', 'sh', '-c', SCRIPT], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  let done = false;
  exited.then(() => {
    done = true;
  });
  const samples = [];
  try {
    while (!done) {
      await sleep(200);
      const kib = rssKib(child.pid);
      if (kib !== undefined && !done) samples.push({ at: Date.now() - started, kib });
    }
    const code = await exited;
    if (code !== 0) throw new Error(`memusage run exited with ${code}`);
    const steady = samples.filter((s) => s.at >= 3000);
    if (steady.length === 0) throw new Error('memusage run ended within its first 3 s');
    return {
      processes: BUILD_PROCESSES,
      seconds: (Date.now() - started) / 1000,
      firstKib: steady[0].kib,
      maxKib: Math.max(...steady.map((s) => s.kib)),
      lastKib: steady.at(-1).kib,
    };
  } finally {
    if (!done) killGroup(child.pid);
  }
};
