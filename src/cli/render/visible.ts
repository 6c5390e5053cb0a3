/**
 * Text that came from a server or a tenant (model names, policy names, error details) is shown
 * with its control characters made visible, never interpreted by the terminal: an ESC sequence
 * in a model name must not recolour, move the cursor, retitle the window or hide a line.
 * C0 (except none: even tab and newline are shown, a cell is one line), DEL and C1 become
 * `\xHH`, and the Unicode line/paragraph separators and bidi overrides become `\u{HHHH}`.
 */
export { visible, visibleLines } from '../../core/visible-text.js';
