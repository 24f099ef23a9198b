import type { FrameStore } from '../account/frame-table.js';
import type { PfnIndex } from '../account/pfn-index.js';
import type { ProcessDir } from '../procfs/process-dir.js';
import type { CollectedProcess } from './pagemap-engine.js';
import type { Snapshot } from './types.js';

/**
 * What a streamed snapshot tells a capture (src/capture/recorder.ts), at the few points where its inputs
 * are at hand: the engine calls it and never depends on what it does. Optional everywhere: without one the
 * stream does exactly what it did.
 */
export interface StreamRecorder {
  /** A process's pages were read; its directory is still open (the files read along are in `dir.files`). */
  collected(dir: ProcessDir, process: CollectedProcess): void;
  /**
   * A batch's frames are in the store, each with the count (and flags) the accounting is about to use;
   * the batch's pages are views that are reused after this returns.
   */
  batch(batch: readonly CollectedProcess[], index: PfnIndex, dense: Uint32Array, store: FrameStore): void;
  /** The stream is over: the store holds every frame it met. */
  end(store: FrameStore): void;
  /** The snapshot that was built from what was recorded (what the command prints). */
  snapshot(snapshot: Snapshot): void;
}
