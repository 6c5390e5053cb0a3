import { Chalk } from 'chalk';
import stringWidth from 'string-width';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitColumns, MIN_COLUMN_WIDTH, renderKeyValues, renderTable, styled, truncateToWidth } from '../../src/cli/render/output.js';
import { runInProcess } from '../helpers/run-in-process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const plain = new Chalk({ level: 0 });
const colour = new Chalk({ level: 1 });
const lines = (text: string): string[] => text.trimEnd().split('\n');

describe('tables fitted to the terminal width', () => {
  it('shrinks the widest columns first, narrower ones keep their width', () => {
    expect(fitColumns([4, 30, 12], 100)).toEqual([4, 30, 12]);
    // 40 columns minus two gaps of 2: 36 for the cells; 4 and 12 keep their width, 30 gets the 20 left.
    expect(fitColumns([4, 30, 12], 40)).toEqual([4, 20, 12]);
    // Once the widest is down to the next one, both shrink together.
    expect(fitColumns([4, 30, 20], 30)).toEqual([4, 11, 11]);
    // Never below the minimum, even if the line is then wider than the terminal.
    expect(fitColumns([30, 30, 30], 8)).toEqual([MIN_COLUMN_WIDTH, MIN_COLUMN_WIDTH, MIN_COLUMN_WIDTH]);
  });

  it('cuts cells with … so every line fits, and leaves short tables alone', () => {
    const head = ['ID', 'NAME', 'DESCRIPTION'];
    const rows = [
      ['k1', 'billing', 'the key the billing service uses for its nightly batch jobs'],
      ['k2', 'support-bot', 'short'],
    ];
    const wide = renderTable(head, rows, plain);
    expect(wide).not.toContain('…');
    expect(renderTable(head, rows, plain, { width: 200 })).toBe(wide);

    const narrow = renderTable(head, rows, plain, { width: 40 });
    for (const line of lines(narrow)) expect(stringWidth(line)).toBeLessThanOrEqual(40);
    expect(narrow).toContain('k1  billing      the key the billing se…');
    // The narrow columns are untouched.
    expect(narrow).toContain('support-bot');
    expect(lines(narrow)[2]).toMatch(/^k2 {2}support-bot {2}short$/);
  });

  it('never cuts inside a wide character or a colour code, and keeps colours closed', () => {
    expect(truncateToWidth('漢字漢字漢字', 6)).toBe('漢字…');
    expect(stringWidth(truncateToWidth('漢字漢字漢字', 6))).toBe(5);
    expect(truncateToWidth('👩‍👩‍👧‍👦👩‍👩‍👧‍👦👩‍👩‍👧‍👦', 4)).toBe('👩‍👩‍👧‍👦…');
    const red = colour.red('a very long red status text');
    const cut = truncateToWidth(red, 10);
    expect(cut).toBe(`${colour.red('a very lo…')}`);
    expect(stringWidth(cut)).toBe(10);

    const table = renderKeyValues([['status', styled(red)], ['url', 'http://127.0.0.1:8080/a/long/path']], colour, { width: 24 });
    for (const line of lines(table)) expect(stringWidth(line)).toBeLessThanOrEqual(24);
    // Every colour that was opened is closed again.
    expect(table.split('\u001b[31m').length).toBe(table.split('\u001b[39m').length);
  });

  it('cuts control-character escapes as text, never as live escape sequences', () => {
    // Server text reaches the table made visible (\x1b as four characters), so cutting it is harmless.
    const out = renderTable(['NAME'], [['\u001b[31mevil model name that is long']], plain, { width: 12 });
    expect(out).not.toContain('\u001b');
    expect(out).toContain('\\x1b[31mevi…');
  });
});

describe('-o table and -o wide on a terminal', { timeout: 60_000 }, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('cuts the health table to a narrow terminal; -o wide shows everything', async () => {
    const args = ['health', '--detailed', '--url', server.url];
    const env = { HOME: server.dataDir, GOVCTL_ADMIN_KEY: server.adminToken };
    const narrow = await runInProcess(args, { env, columns: 30 });
    expect(narrow.exitCode, narrow.stderr).toBe(0);
    for (const line of lines(narrow.stdout)) expect(stringWidth(line)).toBeLessThanOrEqual(30);
    expect(narrow.stdout).toContain('…');
    expect(narrow.stdout).not.toContain(server.url);

    const wide = await runInProcess([...args, '-o', 'wide'], { env, columns: 30 });
    expect(wide.exitCode, wide.stderr).toBe(0);
    expect(wide.stdout).not.toContain('…');
    expect(wide.stdout).toContain(server.url);

    // A pipe is never cut: scripts reading the table get every character.
    const piped = await runInProcess(args, { env });
    expect(piped.stdout).not.toContain('…');
    expect(piped.stdout).toContain(server.url);
  });

  it('accepts -o wide wherever -o table goes, and leaves JSON alone', async () => {
    const env = { HOME: server.dataDir, GOVCTL_URL: server.url, GOVCTL_ADMIN_KEY: server.adminToken };
    const wide = await runInProcess(['keys', 'list', '-o', 'wide'], { env, columns: 20 });
    expect(wide.exitCode, wide.stderr).toBe(0);
    expect(wide.stdout).not.toContain('…');
    const json = await runInProcess(['health', '-o', 'json'], { env, columns: 20 });
    expect(json.exitCode, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ url: server.url, healthy: true });
  });
});
