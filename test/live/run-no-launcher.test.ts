/** measure() of a command when memusage-launch was not built: the command still runs, sampled, and says so. */
import { describe, expect, it, vi } from 'vitest';

vi.mock('../../src/sample/launcher.js', async (original) => ({
  ...(await original<typeof import('../../src/sample/launcher.js')>()),
  launcherAvailable: () => false,
}));

const { measure } = await import('../../src/api/measure.js');

describe('run without memusage-launch', () => {
  it('samples the tree from Node, with the reason and how to build the launcher in the record', async () => {
    const record = await measure({ command: ['sh', '-c', 'sleep 0.4; exit 5'] }, { stdio: 'ignore' });
    expect(record.exit).toEqual({ code: 5, signal: null, status: 5 });
    expect(record.tracing).toMatchObject({ method: 'sampling', launcherCpuMs: null, stops: null });
    expect(record.tracing.reason).toMatch(
      /^memusage-launch not built \(node \S+build-native\.mjs builds it\)/,
    );
    expect(record.notes[0]).toMatch(/processes that start and exit between two samples/);
    expect(record.summary.processes.length).toBeGreaterThan(0);
    expect(record.summary.processes.every((p) => p.peakRssSource === 'sample')).toBe(true);
  });
});
