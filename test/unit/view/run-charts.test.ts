/** The SVG and terminal charts of a run: escaping, axes with units, the peak marked where it happened. */
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../src/sample/record.js';
import { summarize } from '../../../src/sample/summary.js';
import type { TreeSample } from '../../../src/sample/types.js';
import { renderRunSvg } from '../../../src/view/chart-svg.js';
import { renderTerminalChart } from '../../../src/view/chart-terminal.js';
import { renderRunSummary } from '../../../src/view/run-summary.js';

const MiB = 1024 * 1024;
const at = (t: number, pss: number | null, rssSum: number): TreeSample => ({
  t,
  rssSum,
  rss: pss,
  pss,
  uss: pss,
  wss: null,
  wssWindowMs: null,
  snapshotCpuMs: pss === null ? null : 3,
  members: [{ pid: 42, ppid: 1, name: 'evil\u001b]0;x\u0007', rss: rssSum, hwm: rssSum, pss, uss: pss }],
});

const record = (): RunRecord => {
  const samples = [
    at(0, 10 * MiB, 10 * MiB),
    at(100, null, 150 * MiB),
    at(200, 200 * MiB, 210 * MiB),
    at(300, 50 * MiB, 60 * MiB),
  ];
  return {
    version: 1,
    kind: 'run',
    command: ['sh', '-c', 'a < b && c "&" d'],
    pid: 42,
    startedAt: new Date(0).toISOString(),
    durationMs: 400,
    exit: { code: 0, signal: null, status: 0 },
    engine: 'pagemap',
    engineReason: 'pagemap engine: fixture',
    exactTree: true,
    wssMethod: null,
    wssMethodReason: null,
    intervalMs: 100,
    cpuBudget: 0.04,
    samplerCpuMs: 0,
    notes: ['processes that start and exit between two samples (100 ms apart) are not seen'],
    tracing: {
      method: 'sampling',
      reason: 'tracing turned off (--no-trace): the tree is sampled',
      launcherCpuMs: null,
      stops: null,
    },
    summary: summarize(samples, 400),
    samples,
  };
};

describe('run charts', () => {
  it('SVG: well-formed text, the command escaped, axes with units, the PSS peak marked', () => {
    const svg = renderRunSvg(record());
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*>/);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('a &lt; b &amp;&amp; c &quot;&amp;&quot; d');
    expect(svg).not.toContain('a < b');
    expect(svg).toContain('time (seconds)');
    expect(svg).toContain('memory (bytes, 1024-based)');
    expect(svg).toContain('>200.0M<'); // a round tick label on the byte axis
    expect(svg).toContain('peak PSS 200.0M at 0.20 s');
    // Every opened element is closed or self-closed.
    const opened = svg.match(/<(text|svg)\b/g)!.length;
    expect(svg.match(/<\/(text|svg)>/g)!.length).toBe(opened);
  });

  it('SVG: each line holds its last value to the end of the run, not just to its last point', () => {
    const svg = renderRunSvg(record());
    const pss = /<path d="([^"]+)" fill="none" stroke="#1f77b4"/.exec(svg)![1]!;
    const xs = [...pss.matchAll(/[MH]([\d.]+)/g)].map((m) => Number(m[1]));
    // Points at 0, 200 and 300 ms of a 400 ms run: the last horizontal segment goes past the 300 ms point,
    // as far as the axis's 400 ms reaches beyond the 200 ms one.
    const [at0, at200, at300, end] = [xs[0]!, xs[1]!, xs[2]!, xs.at(-1)!];
    expect(end).toBeGreaterThan(at300);
    expect(end - at0).toBeCloseTo(((at200 - at0) * 400) / 200, 0);
  });

  it('summary: final with its time, how processes were seen, each process with its exit', () => {
    const r = record();
    r.summary.processes[0]!.exit = { code: null, signal: 'SIGKILL', status: 137 };
    const text = renderRunSummary(r, { mode: 'human', chart: false, width: 80 });
    expect(text).toMatch(/tree PSS\s+peak\s+200\.0M at\s+0\.20 s\s+mean\s+\S+\s+final\s+50\.0M at\s+0\.30 s/);
    expect(text).toContain('processes  sampled only, not traced: tracing turned off (--no-trace)');
    expect(text).toMatch(/\b42\s+210\.0M\s+0\.00–0\.30 s\s+SIGKILL/);
    expect(text).toMatch(/3 exact tree snapshots/);
  });

  it('terminal: block chart scaled to the peak; summary escapes process names', () => {
    const chart = renderTerminalChart(
      'PSS',
      [
        { t: 0, v: 0 },
        { t: 50, v: 100 },
      ],
      100,
      30,
      4,
    );
    const rows = chart.split('\n');
    expect(rows[0]).toBe('PSS');
    expect(rows[1]).toMatch(/^\s+100B ┤ +█+$/);
    const text = renderRunSummary(record(), { mode: 'human', chart: true, width: 80 });
    expect(text).toMatch(/tree PSS\s+peak\s+200\.0M at\s+0\.20 s/);
    expect(text).toMatch(/Σ VmRSS\s+peak\s+210\.0M at\s+0\.20 s/);
    expect(text).toContain('evil\\e]0;x\\x07');
    expect(text).not.toContain('\u001b');
    expect(text).not.toMatch(/maxrss/i);
  });
});
