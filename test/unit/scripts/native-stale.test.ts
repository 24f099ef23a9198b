/**
 * staleNativeSources (scripts/native-stale.mjs): which sources are newer than a checkout's built addon, so
 * that `npm run build` rebuilds an addon a pull or an edit left behind (and the bench refuses to measure it).
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { staleNativeSources } from '../../../scripts/native-stale.mjs';

const checkout = (): string => {
  const repo = mkdtempSync(join(tmpdir(), 'memusage-stale-'));
  onTestFinished(() => rmSync(repo, { recursive: true, force: true }));
  mkdirSync(join(repo, 'native'));
  mkdirSync(join(repo, 'build', 'Release'), { recursive: true });
  return repo;
};

const at = (repo: string, file: string, seconds: number) => {
  writeFileSync(join(repo, file), '');
  utimesSync(join(repo, file), seconds, seconds);
};

it('names the C sources, headers and binding.gyp newer than the addon, and nothing else', () => {
  const repo = checkout();
  at(repo, 'native/old.c', 1000);
  at(repo, 'native/new.c', 3000);
  at(repo, 'native/new.h', 3000);
  at(repo, 'native/notes.txt', 3000);
  at(repo, 'binding.gyp', 3000);
  at(repo, 'build/Release/memusage_native.node', 2000);
  expect(staleNativeSources(repo).sort()).toEqual(['binding.gyp', 'native/new.c', 'native/new.h']);
  // Rebuilt: current.
  at(repo, 'build/Release/memusage_native.node', 4000);
  expect(staleNativeSources(repo)).toEqual([]);
});

it('says nothing when there is no addon: whether to build one is the install script’s decision', () => {
  const repo = checkout();
  at(repo, 'native/new.c', 3000);
  expect(staleNativeSources(repo)).toEqual([]);
});
