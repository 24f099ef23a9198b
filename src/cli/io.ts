/** Everything a command may touch outside itself, injected so tests can fake a terminal or a pipe. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** stdout is a terminal: live views, colour and progress are allowed. */
  isTTY: boolean;
  stderrIsTTY: boolean;
  /** Width to fit tables to. */
  columns: number;
  env: Readonly<Record<string, string | undefined>>;
}

/** The real process's streams. COLUMNS wins over the terminal's width, as in ps(1); 80 when neither. */
export const processIo = (): Io => {
  const envColumns = Number(process.env.COLUMNS);
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    isTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    columns:
      Number.isInteger(envColumns) && envColumns > 0
        ? envColumns
        : process.stdout.isTTY
          ? process.stdout.columns
          : 80,
    env: process.env,
  };
};

/** Colour only on a terminal and never when NO_COLOR is set (https://no-color.org). */
export const useColor = (io: Io): boolean => io.isTTY && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
