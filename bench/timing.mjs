/**
 * A small hyperfine: run commands round-robin (so they share the machine's conditions), discard warm-up
 * rounds, and report the median wall time of each. Every command starts from this process the same way,
 * so the spawn cost is common to all and ratios compare like with like.
 */
import { spawnSync } from 'node:child_process';

/** Wall milliseconds of one run, stdout to /dev/null; stderr kept for the first failure report. */
export const timeOnce = (command) => {
  const start = process.hrtime.bigint();
  const result = spawnSync(command.file, command.args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...command.env },
    maxBuffer: 16 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.error) throw result.error;
  const okCodes = command.okCodes ?? [0];
  if (!okCodes.includes(result.status)) {
    throw new Error(
      `${command.name}: exit ${result.status ?? result.signal}: ${String(result.stderr).slice(0, 500)}`,
    );
  }
  return ms;
};

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Time each command `runs` times after `warmup` rounds, alternating. Returns name → {median, min, max,
 * samples} in ms.
 */
export const timeCommands = (commands, { runs = 5, warmup = 1 } = {}) => {
  const samples = new Map(commands.map((c) => [c.name, []]));
  for (let round = 0; round < warmup + runs; round++) {
    for (const command of commands) {
      const ms = timeOnce(command);
      if (round >= warmup) samples.get(command.name).push(ms);
    }
  }
  const out = {};
  for (const [name, values] of samples) {
    out[name] = {
      median: median(values),
      min: Math.min(...values),
      max: Math.max(...values),
      samples: values,
    };
  }
  return out;
};

const hasGnuTime = () => spawnSync('/usr/bin/time', ['-f', '%M', 'true'], { stdio: 'pipe' }).status === 0;

/**
 * Peak RSS (KiB) of a command. With GNU time: its wait4() rusage of the command (time is small, so the
 * command cannot inherit a big parent's ru_maxrss across fork+exec). Without it: a preload hook prints
 * process.resourceUsage().maxRSS at exit, the command started by a small shell for the same reason.
 */
export const peakRssKib = (command) => {
  const viaTime = hasGnuTime();
  const result = viaTime
    ? spawnSync('/usr/bin/time', ['-f', '%M', command.file, ...command.args], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, ...command.env },
      })
    : spawnSync('sh', ['-c', '"$@"; :', 'sh', command.file, '--import', MAXRSS_HOOK, ...command.args], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, ...command.env },
      });
  if (result.error) throw result.error;
  // The figure is the last stderr line; the command's own stderr comes before it.
  const lines = String(result.stderr).trim().split('\n');
  const kib = Number(lines[lines.length - 1]);
  if (!Number.isFinite(kib)) throw new Error(`no peak RSS figure in: ${result.stderr}`);
  return { kib, method: viaTime ? '/usr/bin/time -f %M' : 'process.resourceUsage().maxRSS' };
};

const MAXRSS_HOOK = `data:text/javascript,${encodeURIComponent(
  "process.on('exit', () => process.stderr.write('\\n' + process.resourceUsage().maxRSS + '\\n'));",
)}`;
