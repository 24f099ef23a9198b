/**
 * `memusage top` without root (as nobody, via setpriv): the smaps_rollup engine with the same columns, a
 * note naming what is missing, and every process it may not read reported, never silently dropped.
 */
import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { NOBODY, nobodyBin, removeNobodyCopy, runAsNobody } from '../helpers/nobody.js';
import { requireRoot } from '../helpers/require-root.js';

const pidsNow = () =>
  new Set(
    readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number),
  );

describe.skipIf(!requireRoot())('memusage top as an unprivileged user (setpriv to nobody)', () => {
  afterAll(removeNobodyCopy);

  it('--json: smaps_rollup engine, the note, and every unreadable process reported', () => {
    const bin = nobodyBin();
    const before = pidsNow();
    const r = runAsNobody(bin, ['top', '--once', '--json']);
    const after = pidsNow();
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      engine: string;
      engineReason: string;
      notes: string[];
      processes: { pid: number; uid: number; user: string }[];
      skipped: { pid: number; reason: string }[];
      totals: { processes: number };
    };
    expect(doc.engine).toBe('smaps_rollup');
    expect(doc.engineReason).toMatch(/kpagecount is not readable \(needs root\)/);
    expect(doc.notes).toHaveLength(1);
    expect(doc.notes[0]).toMatch(/zero-page/);
    expect(doc.notes[0]).toMatch(/only processes you may trace/);

    // What nobody may read: its own processes (at least this memusage itself).
    expect(doc.processes.length).toBeGreaterThan(0);
    for (const p of doc.processes) expect([p.pid, p.uid, p.user]).toEqual([p.pid, NOBODY, 'nobody']);
    expect(doc.totals.processes).toBe(doc.processes.length);

    // Root's processes, this test runner among them, are reported as denied, not silently missing.
    const skipped = new Map(doc.skipped.map((s) => [s.pid, s.reason]));
    expect(skipped.get(process.pid)).toBe('denied');
    expect(skipped.get(1)).toBe('denied');
    // Every process alive before and after the run is either measured or skipped with a reason.
    const measured = new Set(doc.processes.map((p) => p.pid));
    const unaccounted = [...before].filter(
      (pid) => after.has(pid) && !measured.has(pid) && !skipped.has(pid),
    );
    expect(unaccounted, 'processes neither measured nor reported').toEqual([]);
  });

  it('table: the same columns, and stderr names the engine, what is missing and the unreadable count', () => {
    const r = runAsNobody(nobodyBin(), ['top', '--once']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^\s*PID\s+USER\s+SWAP\s+USS\s+PSS\s+RSS\s+COMMAND$/);
    expect(r.stdout).toMatch(/^\s*\d+ nobody /m);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^memusage: smaps_rollup engine: \/proc\/kpagecount is not readable \(needs root\)/,
    );
    expect(lines[1]).toMatch(/^memusage: note: smaps_rollup cannot show zero-page mappings/);
    // A count, then whose: "PIDs 1, …" (the list once read as a second count).
    expect(lines[2]).toMatch(
      /^memusage: \d+ processes not readable \(permission denied\), left out of the totals: PIDs 1, /,
    );
    // smaps_rollup cannot tell shared pages: TOTAL's RSS and USS are "-", not a misleading sum, and the
    // line under the table says why.
    const out = r.stdout.trimEnd().split('\n');
    expect(out.at(-2)).toMatch(/^\s+TOTAL\s+\S+\s+-\s+\S+\s+-$/);
    expect(out.at(-1)).toBe('TOTAL RSS/USS: not knowable without the pagemap engine (root); others: sums');
  });

  it('-q: the table alone, no notes on stderr', () => {
    const r = runAsNobody(nobodyBin(), ['top', '--once', '-q']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\s*\d+ nobody /m);
    expect(r.stderr).toBe('');
  });
});
