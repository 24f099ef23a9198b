import { setTimeout as sleepFor } from 'node:timers/promises';

/** Time and CPU as the sampler sees them: injected so tests can run a schedule without waiting. */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** CPU time this process has used, in milliseconds (user + system). */
  cpuMs(): number;
  /** Wait `ms`; resolves early (never rejects) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  cpuMs: () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  },
  sleep: async (ms, signal) => {
    try {
      await sleepFor(Math.max(0, ms), undefined, signal ? { signal } : {});
    } catch {
      // Aborted: the caller checks the signal.
    }
  },
};
