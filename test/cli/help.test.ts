import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandPathOf } from '../../src/cli/help.js';
import type { CliIO } from '../../src/cli/io.js';
import { buildProgram, run } from '../../src/cli/main.js';
import { GOVCTL } from '../helpers/cli.js';

const GLOBAL_FLAGS = ['--url', '--context', '--admin-key', '--embedded', '--timeout', '--ca-cert', '--insecure', '-o, --output', '--no-color', '-q, --quiet', '--verbose'];

/** Every command `--help` lists (hidden ones, such as completion's helper, are not for people). */
function allCommands(command: Command): Command[] {
  // commander keeps the hidden flag private.
  const visible = command.commands.filter((c) => !(c as unknown as { _hidden: boolean })._hidden);
  return visible.flatMap((c) => [c, ...allCommands(c)]);
}

/** A command that runs something: a leaf, or a group with its own action (load, serve). */
function runnable(command: Command): boolean {
  // commander keeps the action handler private; a group without one only prints its help.
  return command.commands.length === 0 || (command as unknown as { _actionHandler: unknown })._actionHandler != null;
}

function program(): Command {
  return buildProgram({ ...captureIO(), env: {} }, new AbortController().signal).program;
}

function captureIO(): CliIO & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  stdout.on('data', (c: Buffer) => chunks.out.push(c));
  stderr.on('data', (c: Buffer) => chunks.err.push(c));
  return {
    stdout,
    stderr,
    stdin: new PassThrough(),
    env: { GOVCTL_CONFIG: '/nonexistent/govctl-config.json', NO_COLOR: '1' },
    cwd: process.cwd(),
    stdoutIsTTY: false,
    stdinIsTTY: false,
    out: () => Buffer.concat(chunks.out).toString('utf8'),
    err: () => Buffer.concat(chunks.err).toString('utf8'),
  };
}

/** Runs govctl in this process with its own streams: the exit code, stdout and stderr. */
async function govctlHere(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const io = captureIO();
  const exitCode = await run(['node', 'govctl', ...args], io);
  return { exitCode, stdout: io.out(), stderr: io.err() };
}

describe('help: one layout for every command', () => {
  const commands = allCommands(program());

  it('every runnable command shows its flags, the inherited global flags, an example; required ones are marked', () => {
    const leaves = commands.filter(runnable);
    expect(leaves.length).toBeGreaterThan(20);
    for (const command of leaves) {
      const path = commandPathOf(command);
      const help = command.helpInformation();
      const lines = help.split('\n');
      expect(lines, path).toContain('USAGE');
      expect(help, path).toContain(`  ${path}`);
      expect(lines, path).toContain('FLAGS');
      const inherited = lines.indexOf('INHERITED FLAGS');
      expect(inherited, `${path}: INHERITED FLAGS`).toBeGreaterThan(lines.indexOf('FLAGS'));
      const inheritedText = lines.slice(inherited).join('\n');
      for (const flag of GLOBAL_FLAGS) expect(inheritedText, `${path} inherits ${flag}`).toContain(`  ${flag}`);
      const examples = lines.indexOf('EXAMPLES');
      expect(examples, `${path}: EXAMPLES`).toBeGreaterThan(inherited);
      expect(lines[examples + 1], `${path}: an example`).toMatch(/^ {2}(\S+=\S+ )?(\S+=\$\()?govctl /);
      for (const option of command.options.filter((o) => o.mandatory)) {
        const line = lines.find((l) => l.trimStart().startsWith(option.flags));
        expect(line, `${path} ${option.flags}`).toBeDefined();
        // The marker may wrap onto the description's next line.
        const at = lines.indexOf(line!);
        expect(lines.slice(at, at + 3).join(' '), `${path} ${option.flags} is marked required`).toContain('(required)');
      }
    }
  });

  it("keeps commander's own headings out: one heading style everywhere", () => {
    for (const command of [program(), ...commands]) {
      const help = command.helpInformation();
      expect(help, commandPathOf(command)).not.toMatch(/^(Usage|Options|Arguments|Commands|Global Options|Examples?|Exit codes):/m);
      expect(help, commandPathOf(command)).not.toContain('src/');
    }
  });

  it('prints --help on stdout, once, with exit 0 (the after-text is not repeated below the layout)', async () => {
    const result = await govctlHere(['load', 'k8s', '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.match(/^EXAMPLES$/gm)).toHaveLength(1);
    expect(result.stdout).toContain('--image <image>');
    expect(result.stdout).toContain('(required)');
    // load's own flags are inherited by load k8s, and listed there.
    expect(result.stdout.slice(result.stdout.indexOf('INHERITED FLAGS'))).toContain('--profile <name|file>');
  });

  it('lists the rule ids that scan --disable takes (the hint of an unknown id points there)', async () => {
    const listed = await govctlHere(['scan', 'rules', 'secrets', '-o', 'json']);
    expect(listed.exitCode).toBe(0);
    const ids = (JSON.parse(listed.stdout) as { rules: Array<{ id: string; kind: string }> }).rules;
    expect(ids.length).toBeGreaterThan(5);
    expect(ids.every((r) => r.kind === 'secrets')).toBe(true);

    const refused = await govctlHere(['scan', 'secrets', '--disable', 'no-such-rule', '.']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/^govctl: error: unknown secret rule id to disable: no-such-rule\n {2}hint: .*govctl scan rules secrets/);
    expect(refused.stderr).not.toContain('src/');
  });

  it('no hint in the source points at a source file', async () => {
    const root = fileURLToPath(new URL('../../src/', import.meta.url));
    const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.ts'));
    const offending: string[] = [];
    for (const file of files) {
      const text = await readFile(join(root, file), 'utf8');
      for (const match of text.matchAll(/hint:\s*[`'"][^`'"\n]*src\/[^`'"\n]*/g)) offending.push(`${file}: ${match[0]}`);
    }
    expect(offending).toEqual([]);
  });
});

describe('parse errors: govctl: error: …, a hint, exit 2', () => {
  const cases: Array<[string[], RegExp, RegExp]> = [
    [['helth'], /unknown command 'helth'/, /did you mean health\? see govctl --help/],
    [['keys', 'creat'], /unknown command 'creat'/, /did you mean create\? see govctl keys --help/],
    [['health', '--detialed'], /unknown option '--detialed'/, /did you mean --detailed\? see govctl health --help/],
    [['keys', 'revoke'], /missing required argument 'key/, /see govctl keys revoke --help/],
    [['keys', 'create'], /required option '--name <name>' not specified/, /see govctl keys create --help/],
    [['health', '-o', 'xml'], /argument 'xml' is invalid\. Allowed choices are table/, /see govctl --help/],
    [['scan', 'rules', 'nope'], /'nope' is invalid/, /see govctl scan rules --help/],
    [['health', 'extra'], /too many arguments for 'health'/, /see govctl health --help/],
  ];

  it.each(cases)('%j', async (args, message, hint) => {
    const result = await govctlHere(args);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines, result.stderr).toHaveLength(2);
    expect(lines[0]).toMatch(/^govctl: error: /);
    expect(lines[0]).toMatch(message);
    expect(lines[1]).toMatch(/^ {2}hint: /);
    expect(lines[1]).toMatch(hint);
  });

  it('a usage error from a command without a hint of its own points at its help', async () => {
    const result = await govctlHere(['scan', 'rules', '--rules', 'x.json']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^govctl: error: --rules needs the kind.*\n {2}hint: see govctl scan rules --help\n$/);
  });

  it('shows a stack only with --verbose', async () => {
    const quiet = await govctlHere(['keys', 'revoke']);
    expect(quiet.stderr).not.toMatch(/\n\s+at /);
    const verbose = await govctlHere(['keys', 'revoke', '--verbose']);
    expect(verbose.exitCode).toBe(2);
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });
});

describe('output to a closed pipe', () => {
  /** Starts the built govctl with its stdout read by `reader` (or closed at once), like `govctl … | head -1`. */
  function piped(args: string[], closeAtOnce: boolean): Promise<{ code: number | null; signal: string | null; stderr: string; read: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [GOVCTL, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1' } });
      let stderr = '';
      let read = '';
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      if (closeAtOnce) child.stdout.destroy();
      else {
        // Like head -1: read the first line, then close the pipe.
        child.stdout.setEncoding('utf8').on('data', (c: string) => {
          read += c;
          if (read.includes('\n')) child.stdout.destroy();
        });
      }
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stderr, read }));
    });
  }

  it.each([
    [['chaos', '--help'], true],
    [['chaos', '--help'], false],
    [['scan', 'rules'], true],
  ] as const)('%j (closed before the first write: %s) ends quietly', async (args, closeAtOnce) => {
    const result = await piped([...args], closeAtOnce);
    expect(result.signal).toBeNull();
    expect([0, 141]).toContain(result.code);
    expect(result.stderr).toBe('');
    if (!closeAtOnce) expect(result.read.split('\n')[0]).toMatch(/^inject faults/);
  });
});
