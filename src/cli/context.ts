import { type Capabilities, probeCapabilities } from '../engine/capabilities.js';
import type { StreamRecorder } from '../engine/recorder.js';
import { DEFAULT_SYS_ROOT, SYS_ROOT_ENV } from '../procfs/page-idle.js';
import { DEFAULT_PROC_ROOT, PROC_ROOT_ENV } from '../procfs/root.js';
import { UserNames } from '../procfs/users.js';
import type { Io } from './io.js';

/** What every command gets: its streams and where /proc is. */
export interface CommandContext {
  io: Io;
  procRoot: string;
  capabilities(): Capabilities;
  /** uid → name, read once per run and shared by every snapshot. */
  users(): UserNames;
  /** Where sysfs is (the idle-page bitmap): MEMUSAGE_SYS_ROOT or /sys. */
  sysRoot(option?: string): string;
  /** With --capture: told what the snapshot reads (src/capture/recorder.ts). */
  recorder?: StreamRecorder;
}

/** A replayed capture (--source): its proc tree, what the live machine allowed, and its user names. */
export interface ReplaySource {
  procRoot: string;
  caps: Capabilities;
  passwd: string;
}

export const createContext = (
  io: Io,
  procRootOption: string | undefined,
  replay?: ReplaySource,
): CommandContext => {
  const procRoot = replay?.procRoot ?? procRootOption ?? io.env[PROC_ROOT_ENV] ?? DEFAULT_PROC_ROOT;
  let caps: Capabilities | undefined = replay?.caps;
  let users: UserNames | undefined;
  return {
    io,
    procRoot,
    capabilities: () => {
      caps ??= probeCapabilities(procRoot, io.env);
      return caps;
    },
    users: () => {
      users ??= new UserNames(replay?.passwd);
      return users;
    },
    sysRoot: (option) => option ?? io.env[SYS_ROOT_ENV] ?? DEFAULT_SYS_ROOT,
  };
};
