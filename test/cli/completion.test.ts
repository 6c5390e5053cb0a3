import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bashScript } from '../../src/cli/completion/bash.js';
import { allCommands, completionTree } from '../../src/cli/completion/tree.js';
import { processIO } from '../../src/cli/io.js';
import { buildProgram } from '../../src/cli/main.js';
import { listProfiles } from '../../src/load/data-files.js';
import { GOVCTL, govctl } from '../helpers/cli.js';

/** An executable on PATH, or undefined. */
function onPath(name: string): string | undefined {
  return (process.env['PATH'] ?? '').split(delimiter).map((dir) => join(dir, name)).find((path) => existsSync(path));
}

const bash = onPath('bash');
const zsh = onPath('zsh');
const fish = onPath('fish');

function program() {
  return buildProgram(processIO(), new AbortController().signal).program;
}

describe('govctl completion', () => {
  let dir: string;
  let env: Record<string, string>;
  const scripts: Record<string, string> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-completion-'));
    // The scripts call back `govctl __complete KIND` by the name the user typed: put one on PATH.
    await writeFile(join(dir, 'govctl'), `#!/bin/sh\nexec '${process.execPath}' '${GOVCTL}' "$@"\n`);
    await chmod(join(dir, 'govctl'), 0o755);
    // A hand-edited config: a name a shell would expand must never be run, nor offered.
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({
        version: 1,
        current_context: 'prod',
        contexts: { prod: { url: 'http://127.0.0.1:1' }, staging: { url: 'http://127.0.0.1:2' }, [`$(touch ${join(dir, 'ran')})`]: { url: 'http://x' } },
      }),
    );
    env = { GOVCTL_CONFIG: join(dir, 'config.json'), HOME: dir };
    for (const shell of ['bash', 'zsh', 'fish']) {
      const result = await govctl(['completion', shell], env);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toContain('__complete');
      scripts[shell] = result.stdout;
      await writeFile(join(dir, `govctl.${shell}`), `${result.stdout}\n`);
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** What bash's completion offers for `words` (the last one is the word being completed). */
  async function complete(words: string[], script = join(dir, 'govctl.bash')): Promise<string[]> {
    const program = [
      `source ${script}`,
      `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
      `COMP_CWORD=${words.length - 1}`,
      '_govctl',
      `printf '%s\\n' "\${COMPREPLY[@]}"`,
    ].join('\n');
    const result = await execa(bash!, ['--noprofile', '--norc', '-c', program], {
      env: { ...env, PATH: `${dir}${delimiter}${process.env['PATH'] ?? ''}` },
      extendEnv: false,
      cwd: dir,
      reject: false,
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    return result.stdout.split('\n').filter((line) => line !== '');
  }

  it('bash -n accepts the bash script', async () => {
    const result = await execa(bash!, ['-n', join(dir, 'govctl.bash')], { reject: false });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('keeps the zsh and fish scripts balanced (checked without the shells too)', () => {
    const count = (text: string, re: RegExp) => text.split('\n').filter((line) => re.test(line)).length;
    const z = scripts['zsh']!;
    expect(count(z, /^\s*case\b/)).toBe(count(z, /^\s*esac$/));
    expect(count(z, /^\s*if\b(?!.*\bfi$)/)).toBe(count(z, /^\s*fi$/));
    expect(count(z, /^\s*while\b/)).toBe(count(z, /^\s*done$/));
    const f = scripts['fish']!;
    expect(count(f, /^\s*(function|switch|if|for)\b/)).toBe(count(f, /^\s*end$/));
    // Every complete line's quotes pair up (fish single quotes escape only \\ and \').
    for (const line of f.split('\n').filter((l) => l.startsWith('complete '))) {
      expect(line.replace(/\\[\\']/g, '').split("'").length % 2, line).toBe(1);
    }
  });

  it.skipIf(!zsh)(`zsh -n accepts the zsh script${zsh ? '' : ' (skipped: zsh is not installed)'}`, async () => {
    const result = await execa(zsh!, ['-n', join(dir, 'govctl.zsh')], { reject: false });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it.skipIf(!fish)(`fish -n accepts the fish script${fish ? '' : ' (skipped: fish is not installed)'}`, async () => {
    const result = await execa(fish!, ['-n', join(dir, 'govctl.fish')], { reject: false });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('completes commands, subcommands and flags in bash', async () => {
    expect(await complete(['govctl', 'ke'])).toEqual(['keys']);
    expect(await complete(['govctl', 'keys', 'cr'])).toEqual(['create']);
    expect(await complete(['govctl', '--url', 'http://x', 'keys', 're'])).toEqual(['revoke']);
    // A command's own flags, then the inherited globals.
    const flags = await complete(['govctl', 'keys', 'create', '--']);
    expect(flags).toEqual(expect.arrayContaining(['--name', '--role', '--customer', '--context', '--output', '--help']));
    expect(flags).not.toContain('--profile');
    // A parent's flags count below it (commander parses them anywhere after it).
    expect(await complete(['govctl', 'load', 'k8s', '--prof'])).toEqual(['--profile']);
    expect(await complete(['govctl', 'keys', 'create', '--role', ''])).toEqual(['user', 'admin']);
    expect(await complete(['govctl', 'scan', 'secrets', '--fail-on', 'h'])).toEqual(['high']);
    expect(await complete(['govctl', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
  });

  it('completes -o, profiles and probes in bash', async () => {
    expect(await complete(['govctl', 'health', '-o', ''])).toEqual(expect.arrayContaining(['table', 'json']));
    expect(await complete(['govctl', 'load', '--profile', ''])).toEqual(listProfiles());
    expect(listProfiles().length).toBeGreaterThan(0);
    expect(await complete(['govctl', 'chaos', '--probe', ''])).toEqual(['restart', 'network', 'disk', 'memory']);
    expect(await complete(['govctl', 'chaos', '--probe', 'restart,n'])).toEqual(['restart,network']);
  });

  it("completes context names from the config file in bash, never running a name's shell syntax", async () => {
    expect(await complete(['govctl', '--context', ''])).toEqual(['prod', 'staging']);
    expect(await complete(['govctl', 'health', '--context', 'st'])).toEqual(['staging']);
    // bash splits --context=st at "=".
    expect(await complete(['govctl', '--context', '=', 'st'])).toEqual(['staging']);
    expect(await complete(['govctl', 'config', 'use-context', ''])).toEqual(['prod', 'staging']);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it('__complete prints names one per line and never fails', async () => {
    expect(await govctl(['__complete', 'contexts'], env)).toMatchObject({ exitCode: 0, stdout: 'prod\nstaging', stderr: '' });
    expect(await govctl(['__complete', 'probes'], env)).toMatchObject({ exitCode: 0, stdout: 'restart\nnetwork\ndisk\nmemory' });
    await writeFile(join(dir, 'broken.json'), '{not json');
    expect(await govctl(['__complete', 'contexts'], { ...env, GOVCTL_CONFIG: join(dir, 'broken.json') })).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    expect(await govctl(['__complete', 'nonsense', 'extra', '--flag'], env)).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    // Hidden: not offered, not in help.
    expect(await complete(['govctl', '__'])).toEqual([]);
    expect((await govctl(['--help'])).stdout).not.toContain('__complete');
  });

  it('names the shells for an unknown one, with exit 2', async () => {
    const result = await govctl(['completion', 'tcsh']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('govctl: error: unknown shell "tcsh": use bash, zsh, fish');
    expect(result.stdout).toBe('');
  });

  it('has install instructions for each shell in its help', async () => {
    const help = (await govctl(['completion', '--help'])).stdout;
    expect(help).toContain('source <(govctl completion bash)');
    expect(help).toContain('~/.bashrc');
    expect(help).toContain('source <(govctl completion zsh)');
    expect(help).toContain('fpath');
    expect(help).toContain('govctl completion fish > ~/.config/fish/completions/govctl.fish');
  });

  it('is generated from the program: every command is in it, and a new one completes without more work', async () => {
    const tree = completionTree(program());
    const paths = allCommands(tree).map((c) => c.path.join(' '));
    expect(paths).toEqual(expect.arrayContaining(['keys create', 'config use-context', 'load k8s', 'completion', 'version']));
    expect(paths).not.toContain('__complete');
    for (const shell of ['bash', 'zsh', 'fish']) expect(scripts[shell]).toContain('delete-context');

    const grown = program();
    grown.command('zz-new').description('a command added later').option('--zz-flag <file>', 'a file');
    const script = join(dir, 'grown.bash');
    await writeFile(script, bashScript(completionTree(grown)));
    expect(await complete(['govctl', 'zz'], script)).toEqual(['zz-new']);
    expect(await complete(['govctl', 'zz-new', '--zz'], script)).toEqual(['--zz-flag']);
    expect(await complete(['govctl', 'zz-new', '--zz-flag', 'grown.b'], script)).toEqual(['grown.bash']);
  });
});
