import { Option } from '@commander-js/extra-typings';
import type { CaptureRecorder } from '../capture/recorder.js';
import type { CommandContext } from './context.js';
import { UsageError } from './errors.js';
import { unwritableReason } from './output-path.js';

/** --capture and its privacy options, shared by top, pid and capture. */
export const captureOptions = () => [
  new Option('--capture <file>', 'also save what this snapshot read to FILE (.tar.gz; replay with --source)'),
  new Option(
    '--with-cmdline',
    "keep command lines in the capture (default: the executable's base name only)",
  ),
  new Option('--redact-paths', 'replace file paths in the capture by a stable hash plus the base name'),
];

export interface CaptureFlags {
  capture?: string | undefined;
  withCmdline?: boolean | undefined;
  redactPaths?: boolean | undefined;
  engine?: string | undefined;
  source?: string | undefined;
}

/**
 * Check a capture's options before the snapshot (a typo costs nothing) and put a recorder on the context.
 * Only the pagemap engine's inputs can be replayed exactly, so a capture needs it.
 */
export const beginCapture = async (
  ctx: CommandContext,
  file: string | undefined,
  flags: CaptureFlags,
): Promise<CaptureRecorder | undefined> => {
  if (file === undefined) {
    if (flags.withCmdline || flags.redactPaths) {
      throw new UsageError(
        `--${flags.withCmdline ? 'with-cmdline' : 'redact-paths'} applies to a capture: add --capture FILE`,
      );
    }
    return undefined;
  }
  if (flags.source !== undefined)
    throw new UsageError('--capture and --source cannot be combined: the capture would only copy FILE');
  if (flags.engine === 'smaps')
    throw new UsageError('--capture records page frames: it needs the pagemap engine, not --engine smaps');
  const unwritable = unwritableReason(file);
  if (unwritable !== undefined || file === '-')
    throw new UsageError(`--capture ${file}: ${unwritable ?? 'a capture is a file, not standard output'}`);
  const caps = ctx.capabilities();
  if (!caps.frames) {
    const { CaptureError } = await import('../capture/errors.js');
    throw new CaptureError(`--capture needs the pagemap engine, which cannot run here: ${caps.framesReason}`);
  }
  const { CaptureRecorder } = await import('../capture/recorder.js');
  const recorder = new CaptureRecorder({
    withCmdline: flags.withCmdline === true,
    redactPaths: flags.redactPaths === true,
  });
  ctx.recorder = recorder;
  return recorder;
};

/** Write the capture after the command printed its snapshot, and say what it holds. */
export const endCapture = async (
  ctx: CommandContext,
  file: string,
  recorder: CaptureRecorder,
  command: string,
): Promise<void> => {
  // A capture of no process holds nothing to replay or compare: say so rather than leave a file that looks
  // like a picture of the machine (the command's own exit status already says what was not measured).
  if (recorder.result!.processes.length === 0) {
    ctx.io.err(`memusage: nothing was measured: ${file} not written\n`);
    return;
  }
  const { captureEntries, writeCapture } = await import('../capture/writer.js');
  const entries = captureEntries(recorder, {
    procRoot: ctx.procRoot,
    sysRoot: ctx.sysRoot(),
    caps: ctx.capabilities(),
    command,
  });
  const bytes = writeCapture(file, entries, recorder.result!.takenAt);
  const processes = recorder.result!.processes.length;
  ctx.io.err(
    `memusage: wrote ${file} (${processes} process${processes === 1 ? '' : 'es'}, ${recorder.counts.length} frames, ${bytes} bytes, mode 0600): it holds other users' process names, memory sizes and mapped file names\n`,
  );
};
