/**
 * Terminal cells a string occupies. Printable ASCII (nearly every cell memusage prints) is its length;
 * otherwise code points are counted with wide East Asian and emoji characters as 2 and combining marks,
 * joiners and variation selectors as 0. This is what wcwidth(3) does for the common cases, without a
 * dependency whose Unicode tables cost ~20 ms to load on every run.
 */
const PLAIN = /^[\x20-\x7e]*$/;
const ZERO_WIDTH = /^(?:\p{Mn}|\p{Me}|\p{Cf})$/u; // combining marks, variation selectors, ZWSP/ZWJ, bidi marks
const WIDE =
  /^(?:\p{Extended_Pictographic}|[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|[\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}])$/u;

export const charWidth = (ch: string): number => {
  if (ch.length === 1 && ch >= ' ' && ch <= '~') return 1;
  if (ZERO_WIDTH.test(ch)) return 0;
  return WIDE.test(ch) ? 2 : 1;
};

export const cellWidth = (text: string): number => {
  if (PLAIN.test(text)) return text.length;
  let width = 0;
  for (const ch of text) width += charWidth(ch);
  return width;
};
