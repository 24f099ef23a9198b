import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/memhog.js';

const manSource = readFileSync(join(REPO_ROOT, 'man', 'memusage.1'), 'utf8');
/** The page as a reader sees it (groff renders `Fl \\-rss` as --rss). */
const man = spawnSync(
  'groff',
  ['-mdoc', '-Tascii', '-P-c', '-P-b', '-P-u', join(REPO_ROOT, 'man', 'memusage.1')],
  {
    encoding: 'utf8',
  },
).stdout;
const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

/** The commands `memusage --help` lists (all but `help`). */
const commands = (): string[] =>
  [...runCli(['--help']).stdout.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');

/** Long options a command's --help lists, without --help itself. */
const longOptions = (command: string): string[] =>
  [...runCli([command, '--help']).stdout.matchAll(/(?:^|[ ,])(--[a-z][a-z-]*)/gm)]
    .map((m) => m[1]!)
    .filter((o) => o !== '--help');

describe('the man page, --help and README agree', () => {
  it('every command has a section in the man page and is named in the README', () => {
    const list = commands();
    expect(list).toEqual(expect.arrayContaining(['top', 'pid']));
    for (const command of list) {
      expect(manSource, command).toMatch(new RegExp(`^\\.Ss memusage ${command}\\b`, 'm'));
      expect(man, `rendered SYNOPSIS of ${command}`).toMatch(new RegExp(`^ +memusage ${command}\\b`, 'm'));
      expect(readme, command).toContain(`memusage ${command}`);
    }
  });

  it("every option of every command is documented in that command's own man page section", () => {
    for (const command of commands()) {
      const start = manSource.search(new RegExp(`^\\.Ss memusage ${command}\\b`, 'm'));
      const rest = manSource.slice(start + 1);
      const section = rest.slice(0, rest.search(/^\.S[sh] /m));
      for (const option of longOptions(command)) {
        // mdoc writes --sort as "Fl \-sort" (Fl adds one dash), hyphens inside names escaped.
        const needle = `\\-${option.slice(2).replaceAll('-', '\\-')}`;
        expect(section, `${command} ${option}`).toContain(needle);
      }
    }
  });

  it('every column of top --list-columns is in the man page COLUMNS section with its unit', () => {
    const columns = runCli(['top', '--list-columns'])
      .stdout.split('\n')
      .filter((l) => /^[a-z]+ /.test(l))
      .map((l) => l.split(/\s+/));
    expect(columns.length).toBeGreaterThan(10);
    const section = manSource.slice(manSource.indexOf('.Sh COLUMNS'), manSource.indexOf('.Sh ENGINES'));
    for (const [id, , unit] of columns) {
      // ".It Cm id" (or a list of ids), then the description, which starts with the unit for sizes.
      const item = new RegExp(`^\\.It Cm [^\\n]*\\b${id}\\b[^\\n]*\\n([^\\n]*)`, 'm').exec(section);
      expect(item, id).not.toBeNull();
      if (unit === 'bytes') expect(item![1], id).toMatch(/^bytes/);
    }
  });

  it('the README says why tables are not drawn by cli-table3, with the measured figure', () => {
    const performance = readme.slice(readme.indexOf('## Performance'), readme.indexOf('## Development'));
    expect(performance).toMatch(/cli-table3[\s\S]*100 ms[\s\S]*340 rows[\s\S]*5 ms/);
  });

  it('the man page documents every exit status the CLI uses', () => {
    const exit = manSource.slice(manSource.indexOf('.Sh EXIT STATUS'), manSource.indexOf('.Sh EXAMPLES'));
    for (const code of ['0', '1', '2', '3']) expect(exit).toMatch(new RegExp(`^\\.It ${code}$`, 'm'));
  });
});
