import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configPath,
  deleteContext,
  emptyConfig,
  loadConfig,
  saveConfig,
  setContext,
  useContext,
} from '../../src/config/contexts.js';
import { resolveConnection } from '../../src/config/resolve.js';
import { InvalidInputError, NotFoundError } from '../../src/core/errors.js';

describe('config file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-config-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('lives at $GOVCTL_CONFIG, else under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configPath({ GOVCTL_CONFIG: '/x/c.json', XDG_CONFIG_HOME: '/y' })).toBe('/x/c.json');
    expect(configPath({ XDG_CONFIG_HOME: '/y', HOME: '/h' })).toBe('/y/govctl/config.json');
    expect(configPath({ HOME: '/h' })).toBe('/h/.config/govctl/config.json');
  });

  it('reads a missing file as empty, round-trips, and writes mode 0600 in a 0700 dir', async () => {
    const path = join(dir, 'new', 'config.json');
    expect(await loadConfig(path)).toEqual(emptyConfig());
    const config = setContext(emptyConfig(), 'prod', { url: 'https://gov.example.com', admin_key_env: 'K' });
    await saveConfig(path, config);
    expect(await loadConfig(path)).toEqual({ version: 1, current_context: 'prod', contexts: { prod: { url: 'https://gov.example.com', admin_key_env: 'K' } } });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'new'))).mode & 0o777).toBe(0o700);
  });

  it('names the file and the field of invalid content', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(path, JSON.stringify({ version: 1, contexts: { a: { url: 'u', colour: 'red' } } }));
    await expect(loadConfig(path)).rejects.toThrow(`config file ${path} is invalid: $.contexts.a: unknown field "colour"`);
    await writeFile(path, '{ not json');
    await expect(loadConfig(path)).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('switches and deletes contexts; unknown names are not found', () => {
    let config = setContext(emptyConfig(), 'a', { url: 'http://a' });
    config = setContext(config, 'b', { url: 'http://b' });
    expect(config.current_context).toBe('a');
    expect(useContext(config, 'b').current_context).toBe('b');
    expect(deleteContext(config, 'a').current_context).toBeUndefined();
    expect(() => useContext(config, 'c')).toThrow(NotFoundError);
    expect(() => setContext(config, 'bad name', { url: 'http://x' })).toThrow(InvalidInputError);
  });
});

describe('resolveConnection precedence: flag > env > context', () => {
  const config = setContext(emptyConfig(), 'ctx', { url: 'http://context', admin_key_env: 'CTX_KEY' });

  it('takes the context when nothing else is given', async () => {
    const r = await resolveConnection({}, { CTX_KEY: 'k-ctx' }, config);
    expect(r).toEqual({ url: 'http://context', adminKey: 'k-ctx', contextName: 'ctx', sources: { url: 'context', adminKey: 'context' } });
  });

  it('prefers the environment over the context', async () => {
    const r = await resolveConnection({}, { GOVCTL_URL: 'http://env', GOVCTL_ADMIN_KEY: 'k-env', CTX_KEY: 'k-ctx' }, config);
    expect(r).toMatchObject({ url: 'http://env', adminKey: 'k-env', sources: { url: 'env', adminKey: 'env' } });
  });

  it('prefers flags over everything', async () => {
    const r = await resolveConnection({ url: 'http://flag', adminKey: 'k-flag' }, { GOVCTL_URL: 'http://env', GOVCTL_ADMIN_KEY: 'k-env' }, config);
    expect(r).toMatchObject({ url: 'http://flag', adminKey: 'k-flag', sources: { url: 'flag', adminKey: 'flag' } });
  });

  it('resolves nothing with no config (the embedded server will be used)', async () => {
    expect(await resolveConnection({}, {}, emptyConfig())).toEqual({ sources: { url: 'none', adminKey: 'none' } });
  });

  it('reads a key file, and says which variable or file is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'govctl-key-'));
    const keyFile = join(dir, 'admin.key');
    await writeFile(keyFile, 'k-file\n');
    const withFile = setContext(emptyConfig(), 'f', { url: 'http://f', admin_key_file: keyFile });
    expect((await resolveConnection({}, {}, withFile)).adminKey).toBe('k-file');
    await expect(resolveConnection({}, {}, config)).rejects.toThrow('reads its admin key from $CTX_KEY, which is not set');
    await rm(keyFile);
    await expect(resolveConnection({}, {}, withFile)).rejects.toThrow(`reads its admin key from ${keyFile}: ENOENT`);
    await rm(dir, { recursive: true, force: true });
  });

  it('selects a context by flag or GOVCTL_CONTEXT and fails on an unknown one', async () => {
    const two = setContext(config, 'other', { url: 'http://other' });
    expect((await resolveConnection({ context: 'other' }, {}, two)).url).toBe('http://other');
    expect((await resolveConnection({}, { GOVCTL_CONTEXT: 'other' }, two)).url).toBe('http://other');
    await expect(resolveConnection({ context: 'nope' }, {}, two)).rejects.toThrow('no context named "nope"');
  });
});
