/**
 * Placeholder rejection: values that stand in for a secret (docs examples, template variables,
 * masks, "changeme") rather than being one.
 *
 * Two levels, chosen per rule:
 * - `strict` for low-signal rules (generic assignments, URLs with passwords): any hint of a
 *   placeholder rejects the value, including short words such as "test" or "demo".
 * - `lenient` for real-format rules whose values are random by construction (a `ghp_` token, an
 *   AWS key id): only evidence that a random string could practically never contain rejects it
 *   (a placeholder word of five or more letters, a long run of one character, a long
 *   alphabetical sequence, a short unit repeated, template syntax). "ghp_" + 36 random characters that happen to
 *   contain "test" is still a token; the AWS documentation key id ending in "EXAMPLE" is not.
 * - `off` for rules whose values are defaults by design (well-known admin keys) or structured
 *   (private key bodies: those use their own allowlist).
 */
export type PlaceholderLevel = 'strict' | 'lenient' | 'off';

/** Template and variable references: ${VAR}, {{ var }}, $(cmd), %s, %(name)s, #{x}, <your-key>. */
const TEMPLATE =
  /\$\{|\{\{|\}\}|\{%|\$\(|%\([A-Za-z_]\w*\)[sd]|%[sdv](?![A-Za-z0-9])|#\{|<[^<>]{0,64}>|^<|>$|^\$[A-Za-z_]|^%[A-Za-z_][A-Za-z0-9_]*%$|^__[A-Za-z0-9_]+__$|^@[A-Za-z_]+@$|^\{[A-Za-z_][\w.-]*\}$|^\[[A-Za-z_ -]+\]$/;

/** Masks: ****, •••, xxxx / XXXX (case-insensitive), ####, ____ . */
const MASK_STRICT = /\*{3,}|•{2,}|[xX]{4,}|#{4,}|_{4,}|\.{3,}|…/;
const MASK_LENIENT = /\*{4,}|•{3,}|[xX]{5,}|#{5,}|…/;

/** Substrings that mark a placeholder in a low-signal value (compared lower-cased). */
const WORDS_STRICT = [
  'example', 'sample', 'dummy', 'placeholder', 'changeme', 'change_me', 'change-me', 'changeit',
  'redacted', 'your_', 'your-', 'yourkey', 'yoursecret', 'yourtoken', 'yourpass', 'yourapi',
  'insert', 'replace', 'todo', 'fixme', 'fake', 'mock', 'test', 'demo', 'lorem', 'ipsum',
  'notreal', 'not_real', 'not-real', 'not-a-', 'not_a_', 'invalid', 'undefined', 'foobar',
  'qwerty', 'letmein', 'password', 'passwd', 'secret', 'hunter2', 'abc123', 'blah', 'null',
  'nothing', 'default', 'enter', 'fill', 'provide', 'generate', 'setme', 'set_me', 'set-me',
];

/** Placeholder words long enough that a random token practically never contains one. */
const WORDS_LENIENT = [
  'example', 'sample', 'dummy', 'placeholder', 'changeme', 'change_me', 'change-me', 'redacted',
  'your_', 'your-', 'yourkey', 'yoursecret', 'yourtoken', 'yourapi', 'notreal', 'not_real',
  'not-real', 'replaceme', 'replace_me', 'replace-me', 'insert_', 'insert-',
];

/** Whole values that are placeholders in a low-signal rule (compared lower-cased). */
const EXACT_STRICT = new Set([
  'pass', 'pw', 'pwd', 'passwd', 'password', 'secret', 'token', 'key', 'apikey', 'api_key',
  'api-key', 'none', 'nil', 'null', 'true', 'false', 'empty', 'string', 'value', 'admin', 'root',
  'user', 'username', 'guest', 'login', 'auth', 'bearer', 'basic', 'required', 'optional',
  'unknown', 'unset', 'tbd', 'n/a', 'na', 'abc', 'abcd', 'asdf', 'qwer', '1234', '12345',
  '123456', 'foo', 'bar', 'baz',
]);

const SEQUENCES = [
  '0123456789',
  'abcdefghijklmnopqrstuvwxyz',
  'qwertyuiop',
  'asdfghjkl',
  'zxcvbnm',
  '9876543210',
  'zyxwvutsrqponmlkjihgfedcba',
];

function hasSequence(lower: string, window: number): boolean {
  if (lower.length < window) return false;
  for (const seq of SEQUENCES) {
    for (let i = 0; i + window <= seq.length; i++) {
      if (lower.includes(seq.slice(i, i + window))) return true;
    }
  }
  return false;
}

function hasRun(value: string, length: number): boolean {
  let run = 1;
  for (let i = 1; i < value.length; i++) {
    if (value.charCodeAt(i) === value.charCodeAt(i - 1)) {
      run++;
      if (run >= length) return true;
    } else run = 1;
  }
  return false;
}

function distinctChars(value: string): number {
  return new Set(value).size;
}

/** True when `value` is a placeholder at the given level (`off` never rejects). */
export function isPlaceholder(value: string, level: PlaceholderLevel = 'strict'): boolean {
  if (level === 'off') return false;
  if (value.length === 0) return true;
  const lower = value.toLowerCase();
  if (TEMPLATE.test(value)) return true;

  if (level === 'lenient') {
    if (MASK_LENIENT.test(value)) return true;
    for (const word of WORDS_LENIENT) if (lower.includes(word)) return true;
    if (hasRun(value, 8)) return true;
    if (/(.{2,4})\1{3,}/.test(value)) return true; // abababab, xyzxyzxyzxyz
    if (hasSequence(lower, 8)) return true;
    if (value.length >= 16 && distinctChars(value) < 6) return true;
    return false;
  }

  if (EXACT_STRICT.has(lower)) return true;
  if (MASK_STRICT.test(value)) return true;
  if (/^[\W_]+$/.test(value)) return true;
  for (const word of WORDS_STRICT) if (lower.includes(word)) return true;
  if (hasRun(value, 5)) return true;
  if (/(.{2,4})\1{2,}/.test(value)) return true;
  if (hasSequence(lower, 6)) return true;
  if (value.length >= 6 && distinctChars(value) <= 3) return true;
  return false;
}
