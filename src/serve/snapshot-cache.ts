/**
 * When a scrape measures and when it reuses: one snapshot at a time (single-flight), shared by every scrape
 * that arrives while it is taken. A measurement is synchronous (it holds the event loop), so scrapes that
 * arrived during it are only read afterwards: a snapshot younger than the time it took is theirs too, which
 * also keeps serve from measuring more than half the time. --min-interval extends that reuse. A scrape
 * whose budget (--budget, and Prometheus' X-Prometheus-Scrape-Timeout-Seconds) is shorter than the last
 * measurement took gets the last snapshot at once, and a fresh one is taken after the reply, for the next.
 */

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

  private start(): Promise<Measured<T>> {
    if (this.inflight) return this.inflight;
    const flight = new Promise<Measured<T>>((resolve, reject) => {
      this.options.defer(() => {
        const started = this.options.now();
        try {
          const value = this.measure();
          const endedAt = this.options.now();
          this.measurements++;
          this.last = { value, endedAt, tookMs: endedAt - started };
          resolve(this.last);
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
