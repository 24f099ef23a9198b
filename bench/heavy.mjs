/**
 * Issue 10's populations in the bench, selected with `node bench/run.mjs --population db|db-50m|db-200m|many`:
 * paired medians (commands alternating, each under GNU time for its peak RSS) of reading every
 * smaps_rollup, `top --once` (pagemap), `top --once --by command`, `top --once --engine smaps` and smem,
 * then a live `top --watch 1` whose own RSS is sampled for a few minutes, and again once the population
 * has exited.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUILD_PROCESSES, measureBuildTree } from './build-tree.mjs';
import { measureCapture, renderCapture } from './capture.mjs';
import { measureServePeak } from './exporter.mjs';
import {
  DB_POPULATIONS,
  MANY_SLEEPERS,
  rssKib,
  startDbPopulation,
  startSleepers,
} from './heavy-populations.mjs';
import { killGroup } from './population.mjs';
import { median, timeCommandsYielding } from './timing.mjs';

/** build-tree: `memusage run` following a build-like tree of about 1,000 short processes (build-tree.mjs). */
export const HEAVY_KINDS = [...Object.keys(DB_POPULATIONS), 'many', 'build-tree'];

/** The targets of issue 10 for these populations. */
export const HEAVY_TARGET = {
  db50PeakRssMib: 128,
  db200PeakRssOverDb50Mib: 32,
  db50TopVsRollup: 0.8,
  manyPeakRssMib: 120,
  manyTopVsSmem: 0.5,
  /**
   * Flat memory: the live view's RSS over its last minute at most this much above its RSS over its first
   * minute (medians: a sample taken just before a garbage collection would otherwise decide), and
   * `run`'s RSS at the end of a build-like tree at most this much above its RSS after its first 3 s.
   */
  flatGrowthMib: 16,
};

export const ROLLUP = 'cat /proc/[0-9]*/smaps_rollup';
export const TOP = 'top --once (pagemap)';
export const TOP_BY = 'top --once --by command';
export const TOP_SMAPS = 'top --once --engine smaps';
export const SMEM = 'smem -c "pid pss"';

/** Measure one heavy population from start to teardown. */
export const measureHeavy = async (kind, { cli, compareCli, runs, flatMinutes, smem, procCount }) => {
  if (kind === 'build-tree') {
    return {
      kind,
      description: `memusage run following a make -j4-like tree of ${BUILD_PROCESSES} short processes`,
      build: await measureBuildTree(cli),
      ...(compareCli ? { compareBuild: await measureBuildTree(compareCli) } : {}),
    };
  }
  const spec = DB_POPULATIONS[kind];
  const population = spec ? await startDbPopulation(spec) : await startSleepers(MANY_SLEEPERS);
  const section = {
    kind,
    description: spec
      ? `${spec.sharedMib / 1024} GiB shared x ${spec.children} children, ${spec.privateMib} MiB private each`
      : `${MANY_SLEEPERS} sleep processes`,
    started: population.pids.length,
    ...(spec ? { pagesMapped: population.pages, built: population.built } : {}),
  };
  let populationUp = true;
  const teardown = () => {
    populationUp = false;
    population.teardown();
  };
  try {
    section.procEntries = procCount();
    const memusage = (name, args) => ({ name, file: cli, args, okCodes: [0, 3] });
    // Another checkout's, alternating with this one's (bench/run.mjs --compare).
    const compare = (name, args) =>
      compareCli ? [{ name: `${name} (compare)`, file: compareCli, args, okCodes: [0, 3] }] : [];
    section.timing = await timeCommandsYielding(
      [
        {
          name: ROLLUP,
          file: 'sh',
          args: ['-c', 'cat /proc/[0-9]*/smaps_rollup > /dev/null 2>&1'],
          okCodes: [0, 1],
        },
        memusage(TOP, ['top', '--once']),
        ...compare(TOP, ['top', '--once']),
        memusage(TOP_BY, ['top', '--once', '--by', 'command']),
        ...compare(TOP_BY, ['top', '--once', '--by', 'command']),
        memusage(TOP_SMAPS, ['top', '--once', '--engine', 'smaps']),
        ...(smem ? [{ name: SMEM, file: 'sh', args: ['-c', `${SMEM} > /dev/null`] }] : []),
      ],
      { runs, peakRss: true },
    );
    if (spec) section.capture = await measureCapture(cli, runs);
    if (spec) {
      section.serve = await measureServePeak(cli);
      if (compareCli) section.compareServe = await measureServePeak(compareCli);
    }
    if (flatMinutes > 0) {
      const [flat, compareFlat] = await flatMemory(
        compareCli ? [cli, compareCli] : [cli],
        flatMinutes,
        () => populationUp && teardown(),
      );
      section.flat = flat;
      if (compareFlat) section.compareFlat = compareFlat;
    }
  } finally {
    teardown();
  }
  return section;
};

/**
 * A live `top --watch 1` (each table from measureTop, as the live view's, without a terminal; the live
 * view also keeps its last measurement for its keys, so it may hold one more) for `minutes`: its
 * RSS after the first table, the largest, the last, and the medians of its first and last minute; then
 * `endPopulation()` and about 20 s more, for what the view keeps once the processes it measured have
 * exited. With several CLIs (bench/run.mjs --compare), all run at once and are sampled together.
 */
const flatMemory = async (clis, minutes, endPopulation) => {
  const views = clis.map((cli) => {
    const child = spawn(cli, ['top', '--watch', '1'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const view = { child, tables: [], samples: [] };
    child.stdout.on('data', (d) => {
      // One stamp line per table, printed once its snapshot is taken.
      for (const _ of String(d).matchAll(/^--- /gm))
        view.tables.push({ at: Date.now(), kib: rssKib(child.pid) });
    });
    return view;
  });
  const sampleFor = async (ms) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      await sleep(1000);
      for (const view of views) {
        const kib = rssKib(view.child.pid);
        if (kib === undefined) throw new Error('the live top exited');
        view.samples.push(kib);
      }
    }
  };
  try {
    // Wait for the first table (a cold snapshot of the whole population), then time the run from there.
    const firstDeadline = Date.now() + 300_000;
    while (views.some((v) => v.tables.length === 0)) {
      if (Date.now() > firstDeadline || views.some((v) => v.child.exitCode !== null))
        throw new Error('the live top printed no table');
      await sleep(100);
    }
    for (const view of views) view.samples.length = 0;
    await sampleFor(minutes * 60_000);
    const withPopulation = views.map(({ tables, samples }) => {
      const start = tables[0].kib;
      // One sample a second: the first and the last minute of the run.
      const minute = Math.min(60, samples.length);
      return {
        tables: tables.length,
        firstKib: start,
        maxKib: Math.max(start, ...samples),
        lastKib: samples.at(-1),
        firstMinuteMedianKib: median(samples.slice(0, minute)),
        lastMinuteMedianKib: median(samples.slice(-minute)),
      };
    });
    endPopulation();
    for (const view of views) view.samples.length = 0;
    await sampleFor(20_000);
    return views.map((view, i) => ({
      minutes,
      ...withPopulation[i],
      tablesAfterExit: view.tables.length - withPopulation[i].tables,
      afterExitKib: view.samples.at(-1),
    }));
  } finally {
    for (const view of views) killGroup(view.child.pid);
  }
};

export const heavyVerdicts = (sections) => {
  const out = [];
  const peakMib = (s, name) => s.timing[name].peakKib / 1024;
  const byKind = Object.fromEntries(sections.map((s) => [s.kind, s]));
  const db50 = byKind['db-50m'];
  const db200 = byKind['db-200m'];
  if (db50) {
    for (const name of [TOP, TOP_BY]) {
      out.push({
        what: `issue 10: peak RSS of ${name}, 50 M-page db population`,
        value: peakMib(db50, name),
        unit: 'MiB',
        target: `<= ${HEAVY_TARGET.db50PeakRssMib} MiB`,
        pass: peakMib(db50, name) <= HEAVY_TARGET.db50PeakRssMib,
      });
    }
    if (db50.serve) {
      const peak = db50.serve.hwmKib / 1024;
      out.push({
        what: 'issue 12: peak RSS of serve --by command over 10 scrapes, 50 M-page db population',
        value: peak,
        unit: 'MiB',
        target: `<= ${HEAVY_TARGET.db50PeakRssMib} MiB (issue 10's bound for a one-shot run)`,
        pass: peak <= HEAVY_TARGET.db50PeakRssMib,
      });
    }
    const r = db50.timing[TOP].median / db50.timing[ROLLUP].median;
    out.push({
      what: `issue 10: ${TOP} / cat all smaps_rollup, 50 M-page db population`,
      value: r,
      unit: 'x',
      target: `<= ${HEAVY_TARGET.db50TopVsRollup}x`,
      pass: r <= HEAVY_TARGET.db50TopVsRollup,
    });
  }
  if (db200) {
    // Against the 50 M-page figure of this run when there is one (capped at its own target), else the target.
    for (const name of [TOP, TOP_BY]) {
      const base = Math.min(db50 ? peakMib(db50, name) : Infinity, HEAVY_TARGET.db50PeakRssMib);
      const limit = base + HEAVY_TARGET.db200PeakRssOverDb50Mib;
      out.push({
        what: `issue 10: peak RSS of ${name}, 200 M-page db population`,
        value: peakMib(db200, name),
        unit: 'MiB',
        target: `<= ${limit.toFixed(1)} MiB (50 M-page figure, at most ${HEAVY_TARGET.db50PeakRssMib}, + ${HEAVY_TARGET.db200PeakRssOverDb50Mib})`,
        pass: peakMib(db200, name) <= limit,
      });
    }
  }
  const many = byKind.many;
  if (many) {
    out.push({
      what: `issue 10: peak RSS of ${TOP}, ${MANY_SLEEPERS} processes`,
      value: peakMib(many, TOP),
      unit: 'MiB',
      target: `< ${HEAVY_TARGET.manyPeakRssMib} MiB`,
      pass: peakMib(many, TOP) < HEAVY_TARGET.manyPeakRssMib,
    });
    if (many.timing[SMEM]) {
      const r = many.timing[TOP].median / many.timing[SMEM].median;
      out.push({
        what: `issue 10: ${TOP} / smem, ${MANY_SLEEPERS} processes`,
        value: r,
        unit: 'x',
        target: `<= ${HEAVY_TARGET.manyTopVsSmem}x (twice as fast)`,
        pass: r <= HEAVY_TARGET.manyTopVsSmem,
      });
    }
  }
  for (const s of sections) {
    if (s.build) {
      const growth = (s.build.lastKib - s.build.firstKib) / 1024;
      out.push({
        what: `issue 10: memusage run RSS growth following ${s.build.processes} short processes`,
        value: growth,
        unit: 'MiB',
        target: `<= ${HEAVY_TARGET.flatGrowthMib} MiB (last sample vs after its first 3 s)`,
        pass: growth <= HEAVY_TARGET.flatGrowthMib,
      });
    }
    if (!s.flat) continue;
    const growth = (s.flat.lastMinuteMedianKib - s.flat.firstMinuteMedianKib) / 1024;
    out.push({
      what: `issue 10: live top --watch 1 RSS growth over ${s.flat.minutes} min, ${s.kind}`,
      value: growth,
      unit: 'MiB',
      target: `<= ${HEAVY_TARGET.flatGrowthMib} MiB (median of the last minute vs the first)`,
      pass: growth <= HEAVY_TARGET.flatGrowthMib,
    });
  }
  return out;
};

const fmtMs = (v) => (v >= 10_000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`);
const fmtMib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;

export const renderHeavy = (s) => {
  const lines = [];
  if (s.build) {
    const line = (who, b) =>
      `${who}: ${b.seconds.toFixed(1)} s; memusage RSS ${fmtMib(b.firstKib)} after 3 s, max ${fmtMib(b.maxKib)}, last ${fmtMib(b.lastKib)}`;
    lines.push(`${s.kind}: ${s.description}`, `  ${line('this checkout', s.build)}`);
    if (s.compareBuild) lines.push(`  ${line('compare', s.compareBuild)}`);
    return lines;
  }
  const pages = s.pagesMapped ? `, ${(s.pagesMapped / 1e6).toFixed(1)} M pages mapped (summed)` : '';
  lines.push(
    `${s.kind}: ${s.description}: ${s.started} processes started${pages}; ${s.procEntries} entries in /proc`,
  );
  if (s.built) {
    lines.push(
      `  built: group RSS = USS = ${fmtMib(s.built.groupBytes / 1024)} (shared ${fmtMib(s.built.sharedBytes / 1024)} + private)`,
    );
  }
  const rollup = s.timing[ROLLUP].median;
  lines.push(
    `  ${'command'.padEnd(34)} ${'median'.padStart(10)} ${'vs cat'.padStart(7)} ${'peak RSS'.padStart(11)}  (min, max)`,
  );
  for (const [name, v] of Object.entries(s.timing)) {
    lines.push(
      `  ${name.padEnd(34)} ${fmtMs(v.median).padStart(10)} ${`${(v.median / rollup).toFixed(2)}x`.padStart(7)} ${fmtMib(v.peakKib).padStart(11)}  (${fmtMs(v.min)}, ${fmtMs(v.max)})`,
    );
  }
  if (s.capture) lines.push(...renderCapture(s.capture));
  for (const [who, v] of [
    ['', s.serve],
    ['(compare) ', s.compareServe],
  ]) {
    if (!v) continue;
    lines.push(
      `  ${who}serve --by command, ${v.scrapes} scrapes 1 s apart: peak RSS ${fmtMib(v.hwmKib)}, ${fmtMib(v.lastKib)} after the last`,
    );
  }
  for (const [who, f] of [
    ['', s.flat],
    ['(compare) ', s.compareFlat],
  ]) {
    if (!f) continue;
    lines.push(
      `  ${who}live top --watch 1 for ${f.minutes} min (${f.tables} tables): RSS ${fmtMib(f.firstKib)} after the first table, ` +
        `max ${fmtMib(f.maxKib)}, last ${fmtMib(f.lastKib)}; median ${fmtMib(f.firstMinuteMedianKib)} over the first minute, ` +
        `${fmtMib(f.lastMinuteMedianKib)} over the last; ${fmtMib(f.afterExitKib)} 20 s after the population exited (${f.tablesAfterExit} tables)`,
    );
  }
  return lines;
};
