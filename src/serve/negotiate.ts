import type { ExpositionFormat } from '../export/exposition.js';

interface MediaRange {
  type: string;
  q: number;
}

const parseAccept = (accept: string): MediaRange[] =>
  accept.split(',').flatMap((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!type) return [];
    let q = 1;
    for (const p of params) {
      const m = /^q=([0-9.]+)$/.exec(p);
      if (m) q = Number(m[1]);
    }
    return Number.isFinite(q) ? [{ type, q }] : [];
  });

/**
 * OpenMetrics when the scraper's Accept header prefers it to the text format (Prometheus 2.x asks for
 * OpenMetrics first, then text at q=0.5); the text format otherwise, and when there is no Accept header.
 */
export const negotiateFormat = (accept: string | undefined): ExpositionFormat => {
  if (!accept) return 'text';
  const ranges = parseAccept(accept);
  const best = (types: string[]) =>
    Math.max(0, ...ranges.filter((r) => types.includes(r.type)).map((r) => r.q));
  const openmetrics = best(['application/openmetrics-text']);
  const text = best(['text/plain', 'text/*', '*/*']);
  return openmetrics > text ? 'openmetrics' : 'text';
};
