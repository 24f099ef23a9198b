/** When serve measures and when it reuses: single-flight, reuse while young, the scrape's budget. */
import { describe, expect, it } from 'vitest';
import { SnapshotCache } from '../../../src/serve/snapshot-cache.js';

/** A cache over a fake clock; each measurement advances the clock by `takes` ms and returns its number. */
const setup = (o: { takes: number; minIntervalMs?: number; budgetMs?: number }) => {
  let clock = 1000;
  const deferred: (() => void)[] = [];
  let n = 0;
  const cache = new SnapshotCache(
    () => {
      clock += o.takes;
      return ++n;
    },
    {
      minIntervalMs: o.minIntervalMs ?? 0,
      budgetMs: o.budgetMs ?? 10_000,
      now: () => clock,
      defer: (fn) => deferred.push(fn),
    },
  );
  const runDeferred = () => {
    while (deferred.length > 0) deferred.shift()!();
  };
  /** One check phase: the callbacks deferred before it (those it defers run in the next one). */
  const runOne = () => {
    for (const fn of deferred.splice(0)) fn();
  };
  return {
    cache,
    runDeferred,
    runOne,
    advance: (ms: number) => {
      clock += ms;
    },
    pending: () => deferred.length,
  };
};

describe('SnapshotCache', () => {
  it('scrapes that arrive together share one measurement', async () => {
    const t = setup({ takes: 100 });
    const scrapes = [t.cache.get(), t.cache.get(), t.cache.get()];
    expect(t.pending()).toBe(1);
    t.runDeferred();
    const values = (await Promise.all(scrapes)).map((m) => m.value);
    expect(values).toEqual([1, 1, 1]);
    expect(t.cache.measurements).toBe(1);
  });

  it('scrapes read in the loop turns right after a measurement (they came during it) share it', async () => {
    const t = setup({ takes: 5 });
    const first = t.cache.get();
    // The turn that measures.
    t.runOne();
    expect((await first).value).toBe(1);
    // Next turn: connections accepted (their requests come a turn later), long after 5 ms.
    t.advance(50);
    t.cache.touch();
    t.runOne();
    // The turn after: their requests.
    t.advance(50);
    expect((await t.cache.get()).value).toBe(1);
    t.runOne();
    // A turn with nothing: the burst is over; the next scrape measures.
    t.runOne();
    t.advance(50);
    const next = t.cache.get();
    t.runOne();
    expect((await next).value).toBe(2);
  });

  it('a burst lasts at most a second', async () => {
    const t = setup({ takes: 5 });
    const first = t.cache.get();
    t.runOne();
    await first;
    for (let i = 0; i < 9; i++) {
      t.advance(100);
      expect((await t.cache.get()).value).toBe(1);
      t.runOne();
    }
    t.advance(200);
    const late = t.cache.get();
    t.runDeferred();
    expect((await late).value).toBe(2);
  });

  it('a snapshot younger than it took to take is reused (scrapes queued while it ran); older is not', async () => {
    const t = setup({ takes: 100 });
    const first = t.cache.get();
    t.runDeferred();
    await first;
    t.advance(80);
    expect((await t.cache.get()).value).toBe(1);
    t.advance(40);
    const next = t.cache.get();
    t.runDeferred();
    expect((await next).value).toBe(2);
  });

  it('--min-interval extends the reuse', async () => {
    const t = setup({ takes: 10, minIntervalMs: 5000 });
    const first = t.cache.get();
    t.runDeferred();
    await first;
    t.advance(4000);
    expect((await t.cache.get()).value).toBe(1);
    t.advance(1001);
    const next = t.cache.get();
    t.runDeferred();
    expect((await next).value).toBe(2);
  });

  it('a budget shorter than the last measurement: the last snapshot now, a fresh one after', async () => {
    const t = setup({ takes: 3000, budgetMs: 2000 });
    const first = t.cache.get();
    t.runDeferred();
    expect((await first).value).toBe(1);
    t.advance(10_000);
    const hurried = await t.cache.get();
    expect(hurried.value).toBe(1);
    // The refresh was started, not awaited.
    expect(t.pending()).toBe(1);
    t.runDeferred();
    t.advance(3001);
    expect((await t.cache.get()).value).toBe(2);
  });

  it("the scraper's timeout less half a second is its budget", async () => {
    const t = setup({ takes: 800 });
    const first = t.cache.get();
    t.runDeferred();
    await first;
    t.advance(5000);
    // 1.2 s timeout: 0.7 s budget < 0.8 s: the last one.
    expect((await t.cache.get(1200)).value).toBe(1);
    t.runDeferred();
    t.advance(5000);
    // 2 s timeout: 1.5 s budget: measures.
    const fresh = t.cache.get(2000);
    t.runDeferred();
    expect((await fresh).value).toBe(3);
  });

  it('a failed measurement fails the scrapes waiting for it, and the next scrape tries again', async () => {
    let fail = true;
    const deferred: (() => void)[] = [];
    const cache = new SnapshotCache(
      () => {
        if (fail) throw new Error('no');
        return 'ok';
      },
      { minIntervalMs: 0, budgetMs: 1000, now: () => 0, defer: (fn) => deferred.push(fn) },
    );
    const a = cache.get();
    deferred.shift()!();
    await expect(a).rejects.toThrow('no');
    fail = false;
    const b = cache.get();
    deferred.shift()!();
    expect((await b).value).toBe('ok');
  });
});
