/**
 * What the regular expression class \\s and String.prototype.trim treat as white space (ECMAScript's
 * WhiteSpace and LineTerminator), for the parsers that scan /proc text by hand.
 */
export const isSpace = (c: number): boolean =>
  c === 0x20 ||
  (c >= 0x09 && c <= 0x0d) ||
  c === 0xa0 ||
  c === 0x1680 ||
  (c >= 0x2000 && c <= 0x200a) ||
  c === 0x2028 ||
  c === 0x2029 ||
  c === 0x202f ||
  c === 0x205f ||
  c === 0x3000 ||
  c === 0xfeff;
