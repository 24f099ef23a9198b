/**
 * A small hyperfine: run commands round-robin (so they share the machine's conditions), discard warm-up
 * rounds, and report the median wall time of each. Every command starts from this process the same way,
 * so the spawn cost is common to all and ratios compare like with like.
 */
import { spawnSync } from 'node:child_process';

/**
 * Wall milliseconds of one run, stdout to /dev/null; stderr kept for the first failure report. With
 * `withPeak`, the command runs under GNU time and its peak RSS (KiB) comes back too: every command of a
 * comparison is wrapped alike, so time's own exec is common to all of them.
 */
export const timeOnce = (command, withPeak = false) => {
  const [file, args] = withPeak
    ? ['/usr/bin/time', ['-f', '%M', command.file, ...command.args]]
    : [command.file, command.args];
  const start = process.hrtime.bigint();
  const result = spawnSync(file, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...command.env },
    maxBuffer: 16 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.error) throw result.error;
  const stderr = String(result.stderr);
  // GNU time exits with the command's status, or 128+N when a signal killed it.
  const okCodes = command.okCodes ?? [0];
  if (!okCodes.includes(result.status)) {
    throw new Error(`${command.name}: exit ${result.status ?? result.signal}: ${stderr.slice(0, 500)}`);
  }
  if (!withPeak) return ms;
  const lines = stderr.trim().split('\n');
  const kib = Number(lines[lines.length - 1]);
  if (!Number.isFinite(kib)) throw new Error(`${command.name}: no peak RSS figure in: ${stderr.slice(-500)}`);
  return { ms, kib };
};

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Time each command `runs` times after `warmup` rounds, alternating. Returns name → {median, min, max,
 * samples} in ms; with `peakRss` (GNU time needed) also peakKib, the largest peak RSS of all runs.
 */
export const timeCommands = (commands, options = {}) => {
  const rounds = timeRounds(commands, options);
  for (let step = rounds.next(); !step.done; step = rounds.next()) {
    // Nothing to wait for: run straight through.
  }
  return rounds.result();
};

/**
 * timeCommands for long runs: it gives the event loop a turn between commands, so a SIGTERM or SIGINT
 * sent to the bench alone runs its handlers (and tears populations down) within one command's time,
 * not after every round.
 */
export const timeCommandsYielding = async (commands, options = {}) => {
  const rounds = timeRounds(commands, options);
  for (let step = rounds.next(); !step.done; step = rounds.next()) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return rounds.result();
};

/** The rounds of timeCommands, one command per next(); result() once done. */
const timeRounds = (commands, { runs = 5, warmup = 1, peakRss = false } = {}) => {
  if (peakRss && !hasGnuTime()) throw new Error('peak RSS needs GNU time (/usr/bin/time -f %M)');
  const samples = new Map(commands.map((c) => [c.name, []]));
  const peaks = new Map(commands.map((c) => [c.name, 0]));
  const total = (warmup + runs) * commands.length;
  let k = 0;
  const next = () => {
    if (k === total) return { done: true };
    const round = Math.floor(k / commands.length);
    const command = commands[k % commands.length];
    k++;
    const got = timeOnce(command, peakRss);
    // The peak counts the warm-up round too: a cold run may well be the largest.
    if (peakRss) peaks.set(command.name, Math.max(peaks.get(command.name), got.kib));
    if (round >= warmup) samples.get(command.name).push(peakRss ? got.ms : got);
    return { done: false };
  };
  const result = () => {
    const out = {};
    for (const [name, values] of samples) {
      out[name] = {
        median: median(values),
        min: Math.min(...values),
        max: Math.max(...values),
        samples: values,
        ...(peakRss ? { peakKib: peaks.get(name) } : {}),
      };
    }
    return out;
  };
  return { next, result };
};

export const hasGnuTime = () =>
  spawnSync('/usr/bin/time', ['-f', '%M', 'true'], { stdio: 'pipe' }).status === 0;

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
