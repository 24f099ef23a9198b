import { setTimeout as sleepFor } from 'node:timers/promises';

/** Time and CPU as the sampler sees them: injected so tests can run a schedule without waiting. */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** CPU time this process has used, in milliseconds (user + system). */
  cpuMs(): number;
  /** Wait `ms`; resolves early (never rejects) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** A CLOCK_MONOTONIC time in ms (the launcher's event times) on this clock's scale, where it has one. */
  fromMonotonic?(ms: number): number;
}

/** performance.now() and process.hrtime() both read CLOCK_MONOTONIC (libuv); they differ by the time origin. */
let monotonicOffset: number | undefined;

export const systemClock: Clock = {
  now: () => performance.now(),
  cpuMs: () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  },
  fromMonotonic: (ms) => {
    monotonicOffset ??= Number(process.hrtime.bigint()) / 1e6 - performance.now();
    return ms - monotonicOffset;
  },
  sleep: async (ms, signal) => {
    try {
      await sleepFor(Math.max(0, ms), undefined, signal ? { signal } : {});
    } catch {
      // Aborted: the caller checks the signal.
    }
  },
};
