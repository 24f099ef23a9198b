/**
 * --group-rules: process-exporter's `process_names` matchers, so operators can reuse their file.
 *
 *   process_names:
 *     - name: "{{.Comm}}"          # the group; template fields below
 *       comm: [postgres, nginx]    # comm equals one of these
 *     - name: java-{{.Matches.app}}
 *       exe: [/usr/bin/java]       # argv[0] equals one (with a "/"), or its basename does (without)
 *       cmdline: ['-Dapp=(?P<app>\S+)']   # every regex matches the command line (argv joined by spaces)
 *
 * In one entry every matcher given must match; the first entry that matches names the group (first match
 * wins). A process no entry matches goes to the group "other", so PSS still sums to the machine's (where
 * process-exporter drops it). Templates: {{.Comm}}, {{.ExeBase}}, {{.ExeFull}}, {{.Username}},
 * {{.Matches.NAME}} (a named group of a cmdline regex), and {{.PID}}, which makes each process a group of
 * its own: asked for explicitly, and warned about (series come and go with PIDs). Regexes are JavaScript's; Go's (?P<name>…) is
 * accepted. Pure: the file is read by config-file.ts.
 */
import type { CustomGrouping, GroupKeyFields } from '../engine/groups.js';

/** The group of processes that no rule matches (and, with --max-groups, of the smaller groups). */
export const OTHER_GROUP = 'other';

interface Rule {
  name: (p: GroupKeyFields, matches: Record<string, string>) => string;
  comm: Set<string> | undefined;
  exe: string[] | undefined;
  cmdline: RegExp[] | undefined;
}

export class RuleError extends Error {
  override readonly name = 'RuleError';
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const stringList = (value: unknown, where: string): string[] => {
  if (!Array.isArray(value) || value.length === 0 || !value.every((s) => typeof s === 'string'))
    throw new RuleError(`${where}: expected a non-empty list of strings`);
  return value as string[];
};

const argv0 = (p: GroupKeyFields): string =>
  p.cmdline[0] !== undefined && p.cmdline[0] !== '' ? p.cmdline[0] : p.name;
const basename = (path: string): string => path.replace(/^.*\//, '');

const FIELDS: Record<string, (p: GroupKeyFields) => string> = {
  Comm: (p) => p.name,
  ExeBase: (p) => basename(argv0(p)),
  ExeFull: (p) => argv0(p),
  Username: (p) => p.user,
  PID: (p) => String(p.pid),
};

/** Compile a name template: literal text and {{.Field}} / {{.Matches.NAME}} only. */
const compileName = (template: string, where: string): Rule['name'] => {
  const parts: ((p: GroupKeyFields, m: Record<string, string>) => string)[] = [];
  let rest = template;
  while (rest !== '') {
    const open = rest.indexOf('{{');
    if (open < 0) {
      const text = rest;
      parts.push(() => text);
      break;
    }
    const literal = rest.slice(0, open);
    if (literal !== '') parts.push(() => literal);
    const close = rest.indexOf('}}', open);
    if (close < 0) throw new RuleError(`${where}: unclosed {{ in name "${template}"`);
    const field = rest.slice(open + 2, close).trim();
    const match = /^\.Matches\.(\w+)$/.exec(field);
    if (match) {
      const key = match[1]!;
      parts.push((_p, m) => m[key] ?? '');
    } else {
      const get = FIELDS[field.replace(/^\./, '')];
      if (!field.startsWith('.') || !get)
        throw new RuleError(
          `${where}: unknown field {{${field}}} in name (known: .Comm, .ExeBase, .ExeFull, .Username, .PID, .Matches.NAME)`,
        );
      parts.push(get);
    }
    rest = rest.slice(close + 2);
  }
  return (p, m) => {
    // A loop, not parts.map: a callback made per call would be compiled again after each full GC.
    let name = '';
    for (const part of parts) name += part(p, m);
    return name;
  };
};

const compileRegex = (source: string, where: string): RegExp => {
  try {
    // Go's named groups (?P<name>…) are JavaScript's (?<name>…).
    return new RegExp(source.replace(/\(\?P</g, '(?<'), 'u');
  } catch (error) {
    throw new RuleError(`${where}: bad regex "${source}": ${error instanceof Error ? error.message : error}`);
  }
};

const KEYS = new Set(['name', 'comm', 'exe', 'cmdline']);

const compileRule = (entry: unknown, at: number): Rule => {
  const where = `process_names[${at}]`;
  if (!isRecord(entry)) throw new RuleError(`${where}: expected a mapping`);
  for (const key of Object.keys(entry))
    if (!KEYS.has(key)) throw new RuleError(`${where}: unknown key "${key}" (name, comm, exe, cmdline)`);
  if (typeof entry.name !== 'string' || entry.name === '')
    throw new RuleError(`${where}: "name" is required (a group name or template)`);
  const rule: Rule = {
    name: compileName(entry.name, where),
    comm: entry.comm === undefined ? undefined : new Set(stringList(entry.comm, `${where}.comm`)),
    exe: entry.exe === undefined ? undefined : stringList(entry.exe, `${where}.exe`),
    cmdline:
      entry.cmdline === undefined
        ? undefined
        : stringList(entry.cmdline, `${where}.cmdline`).map((s, i) =>
            compileRegex(s, `${where}.cmdline[${i}]`),
          ),
  };
  if (!rule.comm && !rule.exe && !rule.cmdline)
    throw new RuleError(`${where}: needs at least one of comm, exe, cmdline`);
  return rule;
};

/** The named captures of a rule's cmdline regexes when every matcher matches; undefined when one does not. */
const matchRule = (rule: Rule, p: GroupKeyFields): Record<string, string> | undefined => {
  if (rule.comm && !rule.comm.has(p.name)) return undefined;
  if (rule.exe) {
    const full = argv0(p);
    const base = basename(full);
    if (!rule.exe.some((e) => (e.includes('/') ? e === full : e === base))) return undefined;
  }
  const matches: Record<string, string> = {};
  if (rule.cmdline) {
    const line = p.cmdline.join(' ');
    for (const re of rule.cmdline) {
      const m = re.exec(line);
      if (!m) return undefined;
      Object.assign(matches, m.groups ?? {});
    }
  }
  return matches;
};

/** What a rules file asks for that an operator should know about: a group per process. */
export const PER_PROCESS_WARNING =
  'a --group-rules name uses {{.PID}}: each process is a series of its own, which come and go with PIDs ' +
  "and grow Prometheus' index (--max-groups still bounds each scrape)";

/**
 * A rules document (parsed YAML) as a grouping: first match wins, the rest is "other". `perProcess`:
 * some name uses {{.PID}}.
 */
export const compileGroupRules = (doc: unknown): CustomGrouping & { perProcess: boolean } => {
  if (!isRecord(doc) || !Array.isArray(doc.process_names) || doc.process_names.length === 0)
    throw new RuleError('expected a mapping with a non-empty list "process_names"');
  for (const key of Object.keys(doc))
    if (key !== 'process_names') throw new RuleError(`unknown key "${key}" (only process_names)`);
  const rules = doc.process_names.map(compileRule);
  const perProcess = doc.process_names.some(
    (entry) => isRecord(entry) && typeof entry.name === 'string' && /\{\{\s*\.PID\s*\}\}/.test(entry.name),
  );
  return {
    name: 'rules',
    perProcess,
    key: (p) => {
      for (const rule of rules) {
        const matches = matchRule(rule, p);
        // A template that names nothing (an absent capture) must not make an empty label value.
        if (matches) return rule.name(p, matches) || OTHER_GROUP;
      }
      return OTHER_GROUP;
    },
  };
};
