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

/**
 * Wakers of the sleeps waiting on each signal. The sampler sleeps on one signal every tick: one listener per
 * signal, not an AbortSignal listener added and removed (and a timers/promises sleep) per tick, which cost
 * about as much as a tick's reads.
 */
const wakers = new WeakMap<AbortSignal, Set<() => void>>();

/** Call `wake` when `signal` aborts; returns a function that forgets it. */
const onAbort = (signal: AbortSignal, wake: () => void): (() => void) => {
  let set = wakers.get(signal);
  if (!set) {
    const created = new Set<() => void>();
    set = created;
    wakers.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        for (const w of created) w();
        created.clear();
      },
      { once: true },
    );
  }
  set.add(wake);
  const owner = set;
  return () => owner.delete(wake);
};

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
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      let forget: (() => void) | undefined;
      const timer = setTimeout(
        () => {
          forget?.();
          resolve();
        },
        Math.max(0, ms),
      );
      if (signal)
        forget = onAbort(signal, () => {
          clearTimeout(timer);
          resolve();
        });
    }),
};
