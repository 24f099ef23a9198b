/**
 * When a scrape measures and when it reuses: one snapshot at a time (single-flight), shared by every scrape
 * that arrives while it is taken. A measurement is synchronous (it holds the event loop), so scrapes that
 * arrived during it are only read afterwards, in the turns of the event loop that follow (a connection is
 * accepted in one turn, its request read in the next): the snapshot is theirs while every turn since it
 * brought a connection or a scrape, for at most a second (or as long as it took). Besides, a snapshot
 * younger than the time it took is reused, which keeps serve from measuring more than half the time.
 * --min-interval extends that reuse. A scrape
 * whose budget (--budget, and Prometheus' X-Prometheus-Scrape-Timeout-Seconds) is shorter than the last
 * measurement took gets the last snapshot at once, and a fresh one is taken after the reply, for the next.
 */

/** A burst of scrapes shares one snapshot for at most this long (or as long as the snapshot took). */
const BURST_MAX_MS = 1000;

export interface Measured<T> {
  value: T;
  /** Clock time (ms) when the measurement ended. */
  endedAt: number;
  /** How long it took (ms). */
  tookMs: number;
}

export interface CacheOptions {
  minIntervalMs: number;
  budgetMs: number;
  now: () => number;
  /** Runs a callback after the current I/O (setImmediate): lets concurrent requests join one snapshot. */
  defer: (fn: () => void) => void;
}

export class SnapshotCache<T> {
  private last: Measured<T> | undefined;
  private inflight: Promise<Measured<T>> | undefined;
  /** The snapshot just taken, for the scrapes read in the loop turns after it (they arrived during it). */
  private burst: { measured: Measured<T>; busy: boolean } | undefined;
  /** Measurements taken (for tests and the landing page). */
  measurements = 0;

  constructor(
    private readonly measure: () => T,
    private readonly options: CacheOptions,
  ) {}

  /** The snapshot for a scrape whose own timeout (ms) is `timeoutMs`, if the scraper said. */
  get(timeoutMs?: number): Promise<Measured<T>> {
    const { now, minIntervalMs, budgetMs } = this.options;
    const last = this.last;
    const burst = this.burst;
    if (burst && now() - burst.measured.endedAt <= Math.max(BURST_MAX_MS, burst.measured.tookMs)) {
      burst.busy = true;
      return Promise.resolve(burst.measured);
    }
    if (last && now() - last.endedAt <= Math.max(minIntervalMs, last.tookMs)) return Promise.resolve(last);
    if (this.inflight) return this.inflight;
    // Leave the scraper half a second to receive and parse the reply.
    const budget = Math.min(budgetMs, timeoutMs === undefined ? Number.POSITIVE_INFINITY : timeoutMs - 500);
    if (last && last.tookMs > budget) {
      this.start();
      return Promise.resolve(last);
    }
    return this.start();
  }

  /** A connection came in: its request, read in a later turn, may belong to the current burst. */
  touch(): void {
    if (this.burst) this.burst.busy = true;
  }

  private start(): Promise<Measured<T>> {
    if (this.inflight) return this.inflight;
    const flight = new Promise<Measured<T>>((resolve, reject) => {
      this.options.defer(() => {
        const started = this.options.now();
        try {
          const value = this.measure();
          const endedAt = this.options.now();
          this.measurements++;
          const measured = { value, endedAt, tookMs: endedAt - started };
          this.last = measured;
          this.burst = { measured, busy: false };
          // Deferred from inside a deferred callback (setImmediate in the check phase): it runs in the
          // next turn's check phase, after that turn's poll has accepted and read what came meanwhile.
          const check = () => {
            const burst = this.burst;
            if (burst?.measured !== measured) return;
            if (!burst.busy) this.burst = undefined;
            else {
              burst.busy = false;
              this.options.defer(check);
            }
          };
          this.options.defer(check);
          resolve(measured);
        } catch (error) {
          reject(error);
        } finally {
          this.inflight = undefined;
        }
      });
    });
    this.inflight = flight;
    // A background refresh nobody awaits must not become an unhandled rejection; scrapes that await see it.
    flight.catch(() => {});
    return flight;
  }
}
