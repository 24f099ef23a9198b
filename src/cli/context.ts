import { type Capabilities, probeCapabilities } from '../engine/capabilities.js';
import { DEFAULT_PROC_ROOT, PROC_ROOT_ENV } from '../procfs/root.js';
import type { Io } from './io.js';

/** What every command gets: its streams and where /proc is. */
export interface CommandContext {
  io: Io;
  procRoot: string;
  capabilities(): Capabilities;
}

export const createContext = (io: Io, procRootOption: string | undefined): CommandContext => {
  const procRoot = procRootOption ?? io.env[PROC_ROOT_ENV] ?? DEFAULT_PROC_ROOT;
  let caps: Capabilities | undefined;
  return {
    io,
    procRoot,
    capabilities: () => {
      caps ??= probeCapabilities(procRoot, io.env);
      return caps;
    },
  };
};
