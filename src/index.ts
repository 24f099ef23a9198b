export type { MemUsage } from './account/usage.js';
export { type Capabilities, probeCapabilities } from './engine/capabilities.js';
export { EngineUnavailableError } from './engine/errors.js';
export { takeSnapshot } from './engine/snapshot.js';
export type {
  EngineChoice,
  EngineName,
  ProcessMemory,
  Skipped,
  SkipReason,
  Snapshot,
  SnapshotOptions,
} from './engine/types.js';
export { ProcError, type ProcErrorKind } from './procfs/errors.js';
