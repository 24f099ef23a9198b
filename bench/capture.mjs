/**
 * Issue 13's figures: how large a capture of the running population is and how long it takes, next to the
 * plain snapshot it records (`top --once`, alternating with it), and how long a replay of it takes
 * (`top --once --json --source`). Called by run.mjs with the population up.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timeCommandsYielding } from './timing.mjs';

/** Issue 13: a capture of the database-like population stays under this. */
export const CAPTURE_TARGET_MIB = 16;

export const measureCapture = async (cli, runs) => {
  const dir = mkdtempSync(join(tmpdir(), 'memusage-bench-capture-'));
  const file = join(dir, 'capture.tar.gz');
  const memusage = (name, args) => ({ name, file: cli, args, okCodes: [0, 3] });
  try {
    const timing = await timeCommandsYielding(
      [memusage('top --once', ['top', '--once']), memusage('capture', ['capture', '-q', file])],
      { runs },
    );
    const replay = await timeCommandsYielding(
      [memusage('replay', ['top', '--once', '--json', '--source', file])],
      { runs },
    );
    const manifest = JSON.parse(
      execFileSync('tar', ['xzOf', file, 'memusage-capture/manifest.json'], { encoding: 'utf8' }),
    );
    return {
      bytes: statSync(file).size,
      processes: manifest.pids.length,
      frames: manifest.frames,
      topMs: timing['top --once'].median,
      captureMs: timing.capture.median,
      replayMs: replay.replay.median,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;

export const renderCapture = (c) => [
  `  capture (issue 13): ${mib(c.bytes)} for ${c.processes} processes and ${c.frames} frame ordinals; ` +
    `memusage capture ${c.captureMs.toFixed(0)} ms (top --once ${c.topMs.toFixed(0)} ms, alternating); ` +
    `replay (top --once --json --source) ${c.replayMs.toFixed(0)} ms`,
];
