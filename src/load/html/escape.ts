/**
 * Escaping for the self-contained HTML report. Everything a server or a user supplied (endpoint
 * names, tags, reasons) reaches the page as text: in markup through `html`, in the embedded data
 * through `jsonForScript`, and never through a code path that parses it as markup.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an element's content or a quoted attribute value. */
export function html(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * JSON for a `<script type="application/json">` element: `<`, `>` and `&` become \u escapes so
 * nothing can close the element or open a comment, and U+2028/2029 are escaped as well (they end
 * a line in older JavaScript parsers). JSON.parse reads it back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Library code inlined into a `<script>` or `<style>` element: a literal `</script` (or `</style`)
 * or `<!--` would end the element early or change how it is parsed. `<\/` and `<\!` mean the
 * same inside JavaScript strings, regular expressions and comments.
 */
export function inlineElementText(code: string, element: 'script' | 'style'): string {
  return code.replace(new RegExp(`</(${element})`, 'gi'), '<\\/$1').replace(/<!--/g, '<\\!--');
}
