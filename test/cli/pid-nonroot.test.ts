/**
 * `memusage pid` without root (as nobody, via setpriv): it falls back to smaps_rollup, says so, measures
 * the user's own processes and reports the others as not readable.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { AS_NOBODY, nobodyBin, removeNobodyCopy, runAsNobody } from '../helpers/nobody.js';
import { requireRoot } from '../helpers/require-root.js';

describe.skipIf(!requireRoot())('memusage pid as an unprivileged user (setpriv to nobody)', () => {
  afterAll(removeNobodyCopy);

  it('measures its own shell with smaps_rollup, says why, and reports root-owned PID 1 as denied', () => {
    const bin = nobodyBin();
    // The shell is nobody's own process; $$ is its PID, measured while it waits for memusage.
    const r = spawnSync(
      'setpriv',
      [...AS_NOBODY, 'sh', '-c', `echo $$; "${process.execPath}" "${bin}" pid $$ 1 --json; echo "exit $?"`],
      { encoding: 'utf8', cwd: '/', env: { ...process.env, NO_COLOR: '1' } },
    );
    const [shellPid, ...rest] = r.stdout.trim().split('\n');
    const exitLine = rest.pop();
    expect(exitLine).toBe('exit 3'); // PID 1 could not be measured
    const doc = JSON.parse(rest.join('\n')) as {
      engine: string;
      engineReason: string;
      processes: { pid: number; user: string; rss: number; pss: number; uss: number; source: string }[];
      skipped: { pid: number; reason: string }[];
    };
    expect(doc.engine).toBe('smaps_rollup');
    expect(doc.engineReason).toMatch(/kpagecount is not readable \(needs root\)/);
    expect(doc.processes).toHaveLength(1);
    const own = doc.processes[0]!;
    expect(own.pid).toBe(Number(shellPid));
    expect(own.user).toBe('nobody');
    expect(own.source).toBe('smaps_rollup');
    expect(own.rss).toBeGreaterThan(0);
    expect(own.uss).toBeLessThanOrEqual(own.pss);
    expect(own.pss).toBeLessThanOrEqual(own.rss);
    expect(doc.skipped).toEqual([expect.objectContaining({ pid: 1, reason: 'denied' })]);
    // The engine line and its note on stderr, as `top` prints them, then the error.
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^memusage: smaps_rollup engine: \/proc\/kpagecount is not readable/),
      expect.stringMatching(/^memusage: note: smaps_rollup cannot show zero-page mappings/),
      expect.stringMatching(/^memusage: 1: permission denied/),
    ]);
  });

  it('--engine pagemap without root: exit 1 and one line saying why', () => {
    const r = runAsNobody(nobodyBin(), ['pid', '1', '--engine', 'pagemap']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      'memusage: the pagemap engine cannot run: /proc/kpagecount is not readable (needs root)',
    ]);
  });
});
