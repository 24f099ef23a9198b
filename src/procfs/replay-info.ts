import { existsSync } from 'node:fs';
import { readProcText } from './read.js';
import type { ProcRoot } from './root.js';

/** The file a replayed capture's proc tree carries its facts in (see engine/replay-info.ts). */
export const REPLAY_INFO_FILE = '.memusage-replay.json';

/** Its text, or undefined for a live /proc (one stat of a file /proc never has). */
export const readReplayInfoText = (root: ProcRoot): string | undefined => {
  const path = `${root}/${REPLAY_INFO_FILE}`;
  return existsSync(path) ? readProcText(path, 'utf8') : undefined;
};
