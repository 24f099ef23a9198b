import { reconcileSystem, type SystemAccount, type UserspaceTotals } from '../account/system-account.js';
import type { Meminfo } from '../parse/meminfo.js';
import { ProcError } from '../procfs/errors.js';
import { readMeminfo } from '../procfs/meminfo.js';
import type { UserNames } from '../procfs/users.js';
import type { Capabilities } from './capabilities.js';
import { takeStreamedSnapshot } from './snapshot.js';
import type { EngineChoice, ProcessMemory, Snapshot } from './types.js';

export interface SystemResult {
  /** The snapshot the userspace lines come from: Σ of its processes' PSS is `userspace.pss`. */
  snapshot: Snapshot;
  meminfo: Meminfo;
  userspace: UserspaceTotals;
  account: SystemAccount;
}

/** Σ PSS (and its split) over processes; a split unknown for any process is unknown for the sum. */
export const userspaceTotals = (processes: readonly ProcessMemory[]): UserspaceTotals => {
  const sumOrNull = (pick: (p: ProcessMemory) => number | null): number | null =>
    processes.reduce<number | null>((n, p) => {
      const v = pick(p);
      return n === null || v === null ? null : n + v;
    }, 0);
  return {
    processes: processes.length,
    pss: processes.reduce((n, p) => n + p.usage.pss, 0),
    pssAnon: processes.reduce((n, p) => n + p.usage.pssAnon, 0),
    pssFile: sumOrNull((p) => p.usage.pssFile),
    pssShmem: sumOrNull((p) => p.usage.pssShmem),
  };
};

/**
 * The machine's RAM accounted: every process measured once (as `top` does), then /proc/meminfo read right
 * after, and the two reconciled so the parts sum to MemTotal.
 */
export const measureSystem = (
  o: {
    procRoot: string;
    engine?: EngineChoice;
    /** Pages per batch of the streamed snapshot (engine/stream.ts DEFAULT_PAGE_BUDGET when absent). */
    pageBudget?: number;
  },
  caps: Capabilities,
  users: UserNames,
): SystemResult => {
  const { snapshot } = takeStreamedSnapshot(
    { procRoot: o.procRoot, engine: o.engine ?? 'auto', flags: true },
    o.pageBudget === undefined ? {} : { pageBudget: o.pageBudget },
    caps,
    users,
  );
  const meminfo = readMeminfo(o.procRoot);
  if (meminfo.bytes.MemTotal === undefined) {
    throw new ProcError('malformed', `${o.procRoot}/meminfo`, `${o.procRoot}/meminfo has no MemTotal line`);
  }
  const userspace = userspaceTotals(snapshot.processes);
  const account = reconcileSystem(meminfo, userspace);
  if (snapshot.engine !== 'pagemap') {
    account.notes.push(
      'userspace lines count only the processes smaps_rollup could read (run as root for all)',
    );
  }
  const denied = snapshot.skipped.filter((s) => s.reason === 'denied').length;
  if (denied > 0) {
    const what = denied === 1 ? '1 process' : `${denied} processes`;
    account.notes.push(`${what} could not be read (permission denied): their memory is in "unaccounted"`);
  }
  return { snapshot, meminfo, userspace, account };
};
