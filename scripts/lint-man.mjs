// Lint man/memusage.1 with groff: any warning fails (groff itself exits 0 on warnings).
import { spawnSync } from 'node:child_process';

const r = spawnSync('groff', ['-mdoc', '-ww', '-z', 'man/memusage.1'], { encoding: 'utf8' });
if (r.error) {
  console.error(`lint-man: cannot run groff: ${r.error.message}`);
  process.exit(1);
}
if (r.status !== 0 || r.stderr.trim() !== '') {
  console.error(`lint-man: man/memusage.1 has problems:\n${r.stderr}`);
  process.exit(1);
}
