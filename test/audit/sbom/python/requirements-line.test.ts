import { describe, expect, it } from 'vitest';
import { logicalLines, parseOptions, parseRequirement, pinnedVersion, splitArgsOptions } from '../../../../src/audit/sbom/python/requirements-line.js';

describe('requirements lines as pip reads them', () => {
  it('joins backslash continuations, keeps the first line number, drops comments and blanks', () => {
    const text = ['# header', '', 'a==1 \\', '    --hash=sha256:aa \\', '    --hash=sha256:bb', '    # via x', 'b==2  # trailing', 'c @ https://h/c.whl#sha256=ff'].join('\n');
    expect(logicalLines(text)).toEqual([
      { line: 3, text: 'a==1     --hash=sha256:aa     --hash=sha256:bb' },
      { line: 7, text: 'b==2' },
      { line: 8, text: 'c @ https://h/c.whl#sha256=ff' },
    ]);
  });

  it('a comment line ends a continuation', () => {
    expect(logicalLines('a==1 \\\n# comment \\\nb==2')).toEqual([
      { line: 1, text: 'a==1' },
      { line: 3, text: 'b==2' },
    ]);
  });

  it('splits options with "=" or a space, and short options glued to their value', () => {
    expect(parseOptions('-r base.txt --requirement=dev.txt -cconstraints.txt --index-url https://x/simple --pre')).toEqual([
      { name: '-r', value: 'base.txt' },
      { name: '--requirement', value: 'dev.txt' },
      { name: '-c', value: 'constraints.txt' },
      { name: '--index-url', value: 'https://x/simple' },
      { name: '--pre' },
    ]);
    expect(splitArgsOptions('a[x]==1 ; python_version < "3.11" --hash=sha256:ab')).toEqual({
      args: 'a[x]==1 ; python_version < "3.11"',
      options: [{ name: '--hash', value: 'sha256:ab' }],
    });
  });

  it('parses named requirements: extras, specifiers, markers', () => {
    expect(parseRequirement('requests[socks, security] (>=2.31, <3) ; python_version >= "3.8"')).toEqual({
      kind: 'named',
      name: 'requests',
      extras: ['socks', 'security'],
      specifiers: [
        { op: '>=', version: '2.31' },
        { op: '<', version: '3' },
      ],
      marker: 'python_version >= "3.8"',
    });
    expect(parseRequirement('tomli===2.0.1;python_version<"3.11"')).toMatchObject({ name: 'tomli', specifiers: [{ op: '===', version: '2.0.1' }] });
    expect(parseRequirement('!!')).toBeUndefined();
  });

  it('tells pinned from unpinned', () => {
    const pin = (s: string) => {
      const r = parseRequirement(s);
      return r?.kind === 'named' ? pinnedVersion(r.specifiers) : 'direct';
    };
    expect(pin('a==1.2.3')).toBe('1.2.3');
    expect(pin('a===1.2.3')).toBe('1.2.3');
    expect(pin('a == 1.2.3')).toBe('1.2.3');
    expect(pin('a')).toBeUndefined();
    expect(pin('a>=2')).toBeUndefined();
    expect(pin('a~=2.0')).toBeUndefined();
    expect(pin('a==2.*')).toBeUndefined();
  });

  it('recognises URL, VCS and path requirements and the name they carry', () => {
    expect(parseRequirement('git+https://github.com/encode/uvicorn.git@0.29.0#egg=uvicorn')).toEqual({
      kind: 'direct',
      name: 'uvicorn',
      source: 'git+https://github.com/encode/uvicorn.git@0.29.0#egg=uvicorn',
      local: false,
    });
    expect(parseRequirement('tools @ https://h/tools-1.0-py3-none-any.whl ; sys_platform == "linux"')).toEqual({
      kind: 'direct',
      name: 'tools',
      source: 'https://h/tools-1.0-py3-none-any.whl',
      local: false,
      marker: 'sys_platform == "linux"',
    });
    expect(parseRequirement('https://h/pkgs/internal_tools-1.4.0-py3-none-any.whl')).toMatchObject({ name: 'internal_tools', local: false });
    expect(parseRequirement('./vendor/lib-2.0.tar.gz')).toMatchObject({ kind: 'direct', name: 'lib', local: true });
    expect(parseRequirement('.')).toMatchObject({ kind: 'direct', local: true });
    expect(parseRequirement('file:../shared')).toMatchObject({ kind: 'direct', local: true });
  });
});
