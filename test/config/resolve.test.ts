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
import { InvalidInputError, NotFoundError, UsageError } from '../../src/core/errors.js';

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

describe("a context's admin key is bound to the context's server", () => {
  const config = setContext(emptyConfig(), 'prod', { url: 'https://gov.example.com', admin_key_env: 'PROD_KEY' });
  const env = { PROD_KEY: 'k-prod' };

  it('is sent to the same origin however it is spelled', async () => {
    for (const url of ['https://gov.example.com', 'HTTPS://GOV.example.com:443/', 'https://gov.example.com/api']) {
      const r = await resolveConnection({ url }, env, config);
      expect(r, url).toMatchObject({ adminKey: 'k-prod', sources: { adminKey: 'context' } });
      expect(r.withheldKey).toBeUndefined();
    }
  });

  it('is withheld from another --url or GOVCTL_URL (other host, scheme or port), without being read', async () => {
    for (const url of ['https://other.example.com', 'http://gov.example.com', 'https://gov.example.com:8443', 'not a url']) {
      // PROD_KEY unset: withholding must not even try to read it.
      const r = await resolveConnection({ url }, {}, config);
      expect(r.adminKey, url).toBeUndefined();
      expect(r.withheldKey).toEqual({ context: 'prod', contextUrl: 'https://gov.example.com', url, urlSource: 'flag' });
    }
    const byEnv = await resolveConnection({}, { ...env, GOVCTL_URL: 'http://127.0.0.1:8080' }, config);
    expect(byEnv).toMatchObject({ url: 'http://127.0.0.1:8080', sources: { adminKey: 'none' }, withheldKey: { urlSource: 'env' } });
    expect(byEnv.adminKey).toBeUndefined();
  });

  it('does not report a withheld key when the context has none', async () => {
    const keyless = setContext(emptyConfig(), 'open', { url: 'https://gov.example.com' });
    expect((await resolveConnection({ url: 'http://elsewhere' }, {}, keyless)).withheldKey).toBeUndefined();
  });

  it('leaves an explicit key (flag or GOVCTL_ADMIN_KEY) with the URL given', async () => {
    const r = await resolveConnection({ url: 'https://other.example.com' }, { ...env, GOVCTL_ADMIN_KEY: 'k-env' }, config);
    expect(r).toMatchObject({ adminKey: 'k-env', sources: { adminKey: 'env' } });
    expect(r.withheldKey).toBeUndefined();
  });
});

describe('resolveConnection input checks', () => {
  it('counts empty environment variables as unset', async () => {
    const config = setContext(emptyConfig(), 'ctx', { url: 'http://context', admin_key: 'k-ctx' });
    const r = await resolveConnection({}, { GOVCTL_CONTEXT: '', GOVCTL_URL: '', GOVCTL_ADMIN_KEY: '' }, config);
    expect(r).toMatchObject({ url: 'http://context', adminKey: 'k-ctx', contextName: 'ctx' });
    expect(await resolveConnection({}, { GOVCTL_CONTEXT: '', GOVCTL_URL: '' }, emptyConfig())).toEqual({ sources: { url: 'none', adminKey: 'none' } });
  });

  it('refuses an admin key with control characters, naming where it came from but not the key', async () => {
    const key = 'abc\u001b[31mdef';
    const attempt = async (run: () => Promise<unknown>, from: string) => {
      const err = await run().then(() => undefined, (e: unknown) => e);
      expect(err, from).toBeInstanceOf(UsageError);
      expect((err as Error).message).toContain(`the admin key from ${from} contains control characters`);
      expect((err as Error).message).not.toContain('abc');
    };
    await attempt(() => resolveConnection({ url: 'http://x', adminKey: key }, {}, emptyConfig()), '--admin-key');
    await attempt(() => resolveConnection({ url: 'http://x' }, { GOVCTL_ADMIN_KEY: 'a\nb' }, emptyConfig()), 'GOVCTL_ADMIN_KEY');
    const stored = setContext(emptyConfig(), 's', { url: 'http://x', admin_key: key });
    await attempt(() => resolveConnection({}, {}, stored), 'context "s"');
    const byEnv = setContext(emptyConfig(), 'e', { url: 'http://x', admin_key_env: 'K' });
    await attempt(() => resolveConnection({}, { K: key }, byEnv), '$K (context "e")');
    // The trailing newline of a key file is not part of the key; one inside it is.
    const dir = await mkdtemp(join(tmpdir(), 'govctl-ctl-'));
    const file = join(dir, 'k');
    await writeFile(file, 'good-key\n');
    const byFile = setContext(emptyConfig(), 'f', { url: 'http://x', admin_key_file: file });
    expect((await resolveConnection({}, {}, byFile)).adminKey).toBe('good-key');
    await writeFile(file, 'bad\rkey\n');
    await attempt(() => resolveConnection({}, {}, byFile), `${file} (context "f")`);
    await rm(dir, { recursive: true, force: true });
  });

  it('finds no context on Object.prototype', async () => {
    const config = setContext(emptyConfig(), 'real', { url: 'http://real' });
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      await expect(resolveConnection({ context: name }, {}, config), name).rejects.toBeInstanceOf(NotFoundError);
      expect(() => useContext(config, name), name).toThrow(NotFoundError);
      expect(() => deleteContext(config, name), name).toThrow(NotFoundError);
    }
    // A context may be called "constructor" and is then found as itself.
    const named = setContext(config, 'constructor', { url: 'http://ctor' });
    expect((await resolveConnection({ context: 'constructor' }, {}, named)).url).toBe('http://ctor');
  });
});
