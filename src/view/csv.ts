/** RFC 4180 CSV: fields with a comma, quote, CR or LF are quoted, quotes doubled. Raw text, no escaping. */
const field = (value: unknown): string => {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

export const toCsv = (header: readonly string[], rows: readonly (readonly unknown[])[]): string =>
  `${[header, ...rows].map((row) => row.map(field).join(',')).join('\n')}\n`;
