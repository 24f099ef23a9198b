/**
 * Make a process name or command line safe to print on a terminal: a name can carry ESC sequences that
 * retitle the window, move the cursor or hide text. C0/C1 controls, DEL and bidi overrides become
 * visible escapes; a backslash is doubled so the result is unambiguous. JSON output keeps the raw text.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\\]/g;

const NAMED: Record<string, string> = {
  '\n': '\\n',
  '\t': '\\t',
  '\r': '\\r',
  '\u001b': '\\e',
  '\\': '\\\\',
};

export const escapeTerminal = (text: string): string =>
  text.replace(UNSAFE, (ch) => {
    const named = NAMED[ch];
    if (named) return named;
    const code = ch.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });

/** A command line for display: argv joined by spaces, escaped. */
export const displayCommand = (argv: readonly string[], name: string): string =>
  argv.length === 0 ? `[${escapeTerminal(name)}]` : escapeTerminal(argv.join(' '));

const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * For data (JSON, CSV) printed to a terminal: the text stays as it is except control characters other
 * than tab and newline, which become visible \xNN, so a process name cannot drive the terminal. Data sent
 * to a pipe or a file is written exact.
 */
export const neutralizeControls = (text: string): string =>
  text.replace(CONTROLS, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);

/**
 * JSON for a terminal: JSON.stringify already writes C0 controls as \u00XX but leaves DEL and the C1
 * controls (U+0080..U+009F, e.g. CSI) raw; writing them as \u00XX too keeps the document exact.
 */
export const neutralizeJsonControls = (json: string): string =>
  json.replace(/[\u007f-\u009f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
