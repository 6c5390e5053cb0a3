import { describe, expect, it } from 'vitest';
import { inSpans, lexJavaScript, lexPython, lexSource, literalContents, MASK_CHAR } from '../../src/scan/patterns/lexer.js';

const js = (text: string): string => lexJavaScript(text).masked;
const py = (text: string): string => lexPython(text).masked;

/** Every masked copy must keep the length and every line break where it was. */
function expectShapeKept(text: string, masked: string): void {
  expect(masked.length).toBe(text.length);
  const moved: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const isBreak = text[i] === '\n' || text[i] === '\r';
    if ((isBreak || masked[i] === '\n' || masked[i] === '\r') && masked[i] !== text[i]) moved.push(i);
  }
  expect(moved, 'offsets where a line break was added or lost').toEqual([]);
}

describe('JavaScript masking', () => {
  it('blanks line and block comments, keeping newlines', () => {
    expect(js('a = 1; // eval(x)\nb')).toBe('a = 1;           \nb');
    expect(js('a /* eval(x)\n eval(y) */ b')).toBe('a           \n            b');
    expect(js('#!/usr/bin/env node\nrun()')).toBe('                   \nrun()');
  });

  it('masks string contents, keeping the quotes', () => {
    expect(js(`const a = "eval(x)"; const b = 'it\\'s';`)).toBe(`const a = "xxxxxxx"; const b = 'xxxxx';`);
    expect(js('s = "a // not a comment"; t = 1')).toBe('s = "xxxxxxxxxxxxxxxxxx"; t = 1');
    expect(js('s = "line \\\ncontinued"; x')).toBe('s = "xxxxxx\nxxxxxxxxx"; x');
  });

  it('keeps ${expr} code inside template literals, nested templates too', () => {
    expect(js('x = `a${b + `c${d}`}e` + 1')).toBe('x = `x${b + `x${d}`}x` + 1');
    expect(js('q = `SELECT ${cols} FROM t WHERE id = ${id}`')).toBe('q = `xxxxxxx${cols}xxxxxxxxxxxxxxxxxxx${id}`');
    expect(js('t = `${ {a: 1}.a } and \\${not} ${f({b: `${g()}`})}`')).toBe('t = `${ {a: 1}.a }xxxxxxxxxxxxx${f({b: `${g()}`})}`');
    expect(js('t = `multi\nline ${x}\n`')).toBe('t = `xxxxx\nxxxxx${x}\n`');
  });

  it('masks regex literals where an expression may start, not divisions', () => {
    expect(js('x = /ab"c[/]/g; y = "q"')).toBe('x = /xxxxxxx/g; y = "x"');
    expect(js('return /eval\\(/.test(s)')).toBe('return /xxxxxx/.test(s)');
    expect(js('f(/a/, [/b/], !/c/)')).toBe('f(/x/, [/x/], !/x/)');
    expect(js('if (x) {} /foo/.test(y)')).toBe('if (x) {} /xxx/.test(y)');
    expect(js('a = b / c / d; e = (f) / 2; g = h[1] / 3')).toBe('a = b / c / d; e = (f) / 2; g = h[1] / 3');
    expect(js('a = obj.return / 2 / 3')).toBe('a = obj.return / 2 / 3');
    expect(js('if (a < b / 2 && eval(c) / d) f()')).toBe('if (a < b / 2 && eval(c) / d) f()');
    expect(js('const el = <p>{x}</p>; y = 1 / 2 / 3')).toBe('const el = <p>{x}</p>; y = 1 / 2 / 3');
    expect(js('const f = (s) => /a"b/.test(s)')).toBe('const f = (s) => /xxx/.test(s)');
  });

  it('recovers from malformed input at the end of the line or file', () => {
    expect(js("const s = 'unterminated\nnext = eval(x)")).toBe("const s = 'xxxxxxxxxxxx\nnext = eval(x)");
    expect(js('/* unterminated \n comment')).toBe('                \n        ');
    expect(js('`unterminated ${x} tpl\n more')).toBe('`xxxxxxxxxxxxx${x}xxxx\nxxxxx');
    // A `/` that looks like a regex start but never closes on its line is a division.
    expect(js('x = (/ unclosed\neval(y)')).toBe('x = (/ unclosed\neval(y)');
  });

  it('reports literal and comment spans', () => {
    const text = 'a = "one"; // c\nb = `t${x}u`';
    const lexed = lexJavaScript(text);
    expect(literalContents(text, lexed)).toEqual(['one', 't', 'u']);
    expect(lexed.comments).toEqual([11, 15]);
    expect(inSpans(lexed.comments, 12)).toBe(true);
    expect(inSpans(lexed.strings, 5)).toBe(true);
    expect(inSpans(lexed.strings, 3)).toBe(false);
  });
});

describe('Python masking', () => {
  it('blanks # comments and masks strings', () => {
    expect(py('x = 1  # eval(x)\ny = "os.system(a)"')).toBe('x = 1           \ny = "xxxxxxxxxxxx"');
    expect(py("s = 'a # not a comment' # real")).toBe("s = 'xxxxxxxxxxxxxxxxx'       ");
  });

  it('masks triple-quoted strings and docstrings across lines', () => {
    expect(py('def f():\n    """Never eval(x).\n    exec(y)"""\n    return 1')).toBe('def f():\n    """xxxxxxxxxxxxxx\nxxxxxxxxxxx"""\n    return 1');
    expect(py("s = '''it's \"quoted\"'''")).toBe("s = '''xxxxxxxxxxxxx'''");
  });

  it('understands prefixes, raw strings and escapes', () => {
    expect(py('a = r"\\d+\\"" + rb\'x\' + BR"y" + u"z" + b"w"')).toBe('a = r"xxxxx" + rb\'x\' + BR"x" + u"x" + b"x"');
    expect(py('name = "a\\"b"; c')).toBe('name = "xxxx"; c');
    expect(py('bar"x"')).toBe('bar"x"');
  });

  it('keeps f-string {expr} parts as code, with {{ }} escapes and nesting', () => {
    expect(py('x = f"a{b[\'c\']}d{{e}}"')).toBe('x = f"x{b[\'x\']}xxxxxx"');
    expect(py('q = f"SELECT {cols} FROM t WHERE id = {uid}"')).toBe('q = f"xxxxxxx{cols}xxxxxxxxxxxxxxxxxxx{uid}"');
    expect(py('s = f"{f\'{x}\'}" + rf"{y:>{w}}"')).toBe('s = f"{f\'{x}\'}" + rf"{y:>{w}}"');
    expect(py('s = f"""\n{eval(x)}\n"""')).toBe('s = f"""\n{eval(x)}\n"""');
  });

  it('ends unterminated single-line strings at the end of the line, triple-quoted ones at the end of the file', () => {
    expect(py('s = "abc\neval(x)')).toBe('s = "xxx\neval(x)');
    expect(py('s = f"{x\neval(y)')).toBe('s = f"{x\neval(y)');
    expect(py('s = """abc\neval(x)')).toBe('s = """xxx\nxxxxxxx');
  });
});

describe('robustness', () => {
  /** Deterministic pseudo-random text built from the characters lexers trip over. */
  function noise(seed: number, length: number): string {
    const alphabet = ['"', "'", '`', '/', '*', '#', '\\', '{', '}', '$', '(', ')', '[', ']', '\n', '\r\n', ' ', 'f', 'r', 'b', 'x', '=', 'return ', '${', '"""', "'''", '//', '/*', '*/'];
    let x = seed;
    let out = '';
    while (out.length < length) {
      x = (x * 1103515245 + 12345) % 2147483648;
      out += alphabet[x % alphabet.length];
    }
    return out;
  }

  it('keeps length and line breaks on arbitrary input, in both languages', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const text = noise(seed, 400);
      for (const language of ['python', 'javascript'] as const) {
        const lexed = lexSource(text, language);
        expectShapeKept(text, lexed.masked);
        for (let k = 0; k + 1 < lexed.strings.length; k += 2) {
          expect(lexed.strings[k]!).toBeLessThan(lexed.strings[k + 1]!);
          if (k + 2 < lexed.strings.length) expect(lexed.strings[k + 1]!).toBeLessThanOrEqual(lexed.strings[k + 2]!);
        }
      }
    }
  });

  it('only ever changes characters into spaces or the mask character', () => {
    const text = noise(7, 5000);
    for (const language of ['python', 'javascript'] as const) {
      const masked = lexSource(text, language).masked;
      for (let i = 0; i < text.length; i++) if (masked[i] !== text[i]) expect([' ', MASK_CHAR]).toContain(masked[i]);
    }
  });

  it('runs in linear time on pathological input', () => {
    const cases: Array<[string, 'python' | 'javascript']> = [
      ['(/['.repeat(300_000), 'javascript'],
      ['`${'.repeat(300_000), 'javascript'],
      ['"\\'.repeat(300_000), 'javascript'],
      ['f"{'.repeat(300_000), 'python'],
      ['"""'.repeat(300_000), 'python'],
      ["'\\\n".repeat(300_000), 'python'],
    ];
    for (const [text, language] of cases) {
      const started = performance.now();
      expectShapeKept(text, lexSource(text, language).masked);
      expect(performance.now() - started, `${language} ${JSON.stringify(text.slice(0, 6))}`).toBeLessThan(2000);
    }
  });
});
