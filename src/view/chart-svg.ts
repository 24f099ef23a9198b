import type { RunRecord } from '../sample/record.js';
import { humanBytes } from './units.js';

const W = 900;
const H = 420;
const M = { left: 80, right: 30, top: 50, bottom: 60 };

const xml = (text: string): string =>
  text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\uFFFD')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');

/** 1, 2 or 5 × 10^n steps so that about `count` ticks cover `max`. */
const niceStep = (max: number, count: number): number => {
  const raw = max / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw;
};

/** Byte ticks on 1024-based units so the labels are round (64M, 128M, ...). */
const byteStep = (max: number, count: number): number => {
  const unit = max >= 2 ** 30 ? 2 ** 30 : max >= 2 ** 20 ? 2 ** 20 : 1024;
  return niceStep(max / unit, count) * unit;
};

/** The command, cut to fit the chart's width. */
const title = (record: RunRecord): string => {
  const text = `memusage run: ${record.command?.join(' ') ?? `PID ${record.pid}`}`;
  const chars = [...text];
  return chars.length <= 100 ? text : `${chars.slice(0, 99).join('')}…`;
};

interface Series {
  label: string;
  color: string;
  dash: string;
  points: { t: number; v: number }[];
}

/**
 * A standalone SVG chart of a run: tree PSS (step line over the exact snapshots), Σ VmRSS (every sample,
 * dashed) and WSS when measured; the PSS peak is marked. Opens in any browser.
 */
export const renderRunSvg = (record: RunRecord): string => {
  const pick = (key: 'pss' | 'rssSum' | 'wss') =>
    record.samples.flatMap((s) => (s[key] === null ? [] : [{ t: s.t, v: s[key] as number }]));
  const series: Series[] = [
    { label: 'tree PSS', color: '#1f77b4', dash: '', points: pick('pss') },
    { label: 'Σ VmRSS (every sample)', color: '#7f7f7f', dash: '6 4', points: pick('rssSum') },
  ];
  if (record.wssMethod)
    series.push({ label: `tree WSS (${record.wssMethod})`, color: '#d62728', dash: '', points: pick('wss') });
  const tMax = Math.max(record.durationMs, 1);
  const vMax = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.v)));
  const yStep = byteStep(vMax, 5);
  const yTop = Math.ceil(vMax / yStep) * yStep;
  const xStep = niceStep(tMax / 1000, 8) * 1000;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (t: number) => (M.left + (t / tMax) * pw).toFixed(1);
  const y = (v: number) => (M.top + ph - (v / yTop) * ph).toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${xml(title(record))}</text>`,
  ];
  for (let v = 0; v <= yTop + 1e-9; v += yStep) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`);
    out.push(
      `<text x="${M.left - 8}" y="${y(v)}" text-anchor="end" dominant-baseline="middle">${xml(humanBytes(v))}</text>`,
    );
  }
  for (let t = 0; t <= tMax + 1e-9; t += xStep) {
    out.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${M.top + ph}" y2="${M.top + ph + 5}" stroke="black"/>`);
    out.push(
      `<text x="${x(t)}" y="${M.top + ph + 20}" text-anchor="middle">${(t / 1000).toFixed(xStep < 1000 ? 1 : 0)}</text>`,
    );
  }
  out.push(
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}" stroke="black"/>`,
    `<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + ph}" y2="${M.top + ph}" stroke="black"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 18}" text-anchor="middle">time (seconds)</text>`,
    `<text x="18" y="${M.top + ph / 2}" text-anchor="middle" transform="rotate(-90 18 ${M.top + ph / 2})">memory (bytes, 1024-based)</text>`,
  );
  series.forEach((s, i) => {
    if (s.points.length > 0) {
      // Step line: a value holds until the next snapshot, the last one until the end of the run (as in the
      // time-weighted mean).
      const d = s.points
        .map((p, k) => `${k === 0 ? 'M' : `H${x(p.t)} V`}${k === 0 ? `${x(p.t)} ${y(p.v)}` : y(p.v)}`)
        .join(' ');
      const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
      out.push(
        `<path d="${d} H${x(Math.max(tMax, s.points.at(-1)!.t))}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`,
      );
    }
    const lx = M.left + 10 + i * 220;
    out.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="38" y2="38" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
    );
    out.push(`<text x="${lx + 30}" y="42">${xml(s.label)}</text>`);
  });
  const peak = record.summary.pss.peak;
  if (peak) {
    out.push(
      `<circle cx="${x(peak.t)}" cy="${y(peak.value)}" r="5" fill="none" stroke="#1f77b4" stroke-width="2"/>`,
    );
    const anchor = peak.t > tMax * 0.7 ? 'end' : 'start';
    const dx = anchor === 'end' ? -8 : 8;
    out.push(
      `<text x="${(Number(x(peak.t)) + dx).toFixed(1)}" y="${(Number(y(peak.value)) - 8).toFixed(1)}" text-anchor="${anchor}" fill="#1f77b4">${xml(`peak PSS ${humanBytes(peak.value)} at ${(peak.t / 1000).toFixed(2)} s`)}</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
};
