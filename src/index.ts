export type { SharingMatrix, SharingSplit } from './account/shared-account.js';
export type { SystemAccount, SystemPart } from './account/system-account.js';
export type { MemUsage } from './account/usage.js';
export type { PageStates } from './account/vma-account.js';
export { CommandStartError, type MeasureOptions, type MeasureTarget, measure } from './api/measure.js';
export type { RootOptions } from './api/options.js';
export { snapshot } from './api/snapshot.js';
export { type WorkingSetOptions, workingSet } from './api/working-set.js';
export { type Capabilities, probeCapabilities } from './engine/capabilities.js';
export { EngineUnavailableError } from './engine/errors.js';
export { type FileUser, type LibsResult, type MappedFile, measureLibs } from './engine/libs.js';
export { type MappingRow, type MapsOptions, type MapsResult, measureMaps } from './engine/maps.js';
export { measureShared, type SharedResult } from './engine/shared.js';
export { takeSnapshot } from './engine/snapshot.js';
export { measureSystem, type SystemResult } from './engine/system.js';
export type {
  EngineChoice,
  EngineName,
  ProcessMemory,
  Skipped,
  SkipReason,
  Snapshot,
  SnapshotOptions,
} from './engine/types.js';
export type { MappingWss, WssMethod, WssMethodChoice, WssScope } from './engine/wss.js';
export type { Meminfo } from './parse/meminfo.js';
export { DescriptorLimitError } from './procfs/descriptors.js';
export { ProcError, type ProcErrorKind } from './procfs/errors.js';
export type { PeakSource } from './sample/process-ledger.js';
export type { ExitInfo, RunRecord, TracingInfo, WssRecord, WssSampleRecord } from './sample/record.js';
export type { RunsRecord, RunsStats, Spread } from './sample/runs.js';
export type { Peak, ProcessPeak, RunSummary, SeriesStats } from './sample/summary.js';
export type { ProcessSample, SeriesInfo, TreeSample } from './sample/types.js';
export type { ProcessRecord, SnapshotDocument } from './view/records.js';
