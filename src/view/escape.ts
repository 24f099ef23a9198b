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
