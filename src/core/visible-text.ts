/**
 * Text that came from a server or a tenant (model names, policy names, error details) is shown
 * with its control characters made visible, never interpreted by the terminal: an ESC sequence
 * in a model name must not recolour, move the cursor, retitle the window or hide a line.
 * C0 (except none: even tab and newline are shown, a cell is one line), DEL and C1 become
 * `\xHH`, and the Unicode line/paragraph separators and bidi overrides become `\u{HHHH}`.
 * In core so that the client can escape the server text it puts into error messages.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function visible(text: string): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(text)) return text;
  return text.replace(UNSAFE, (ch) => {
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** Like `visible`, but keeps newlines (for multi-line server text shown as a block). */
export function visibleLines(text: string): string {
  return text.split('\n').map(visible).join('\n');
}
