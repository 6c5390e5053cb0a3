import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOVCTL } from '../helpers/cli.js';
import { startFieldServer, type FieldServer } from '../helpers/field-server.js';

const ESC = '\u001b';

/** Server text reaches the terminal with its control characters shown, never interpreted (logs --follow too). */
describe('logs --follow shows server text safely', { timeout: 120_000 }, () => {
  let field: FieldServer;

  beforeAll(async () => {
    field = await startFieldServer({
      logs: {
        status: 200,
        body: {
          logs: [
            {
              id: 'd1',
              timestamp: '2025-01-01T00:00:00Z',
              model: `evil${ESC}]0;owned${ESC}\\`,
              operation: `op\u009b2J`,
              allowed: true,
              risk_score: 0,
              reason: 'ok',
              key_id: 'k',
              api_key_name: `n${ESC}[8m`,
              latency_ms: 1,
            },
          ],
          total: 1,
          page: 1,
          page_size: 20,
          total_pages: 1,
        },
      },
    });
  });
  afterAll(() => field?.close());

  /** Runs `logs -f` until its first result is printed, then Ctrl-C; returns what it printed. */
  async function followOnce(extra: string[]): Promise<{ stdout: string; exitCode: number }> {
    const child = execa(process.execPath, [GOVCTL, 'logs', '-f', '--interval', '200ms', ...extra], {
      env: { PATH: process.env['PATH'] ?? '', HOME: '/tmp', GOVCTL_URL: field.url, GOVCTL_ADMIN_KEY: field.adminKey },
      extendEnv: false,
      reject: false,
      timeout: 60_000,
      stdin: 'ignore',
    });
    let stdout = '';
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        if (stdout.includes('evil')) resolve();
      });
      child.on('exit', () => resolve());
    });
    child.kill('SIGINT');
    const result = await child;
    return { stdout, exitCode: result.exitCode ?? -1 };
  }

  it('as a table', async () => {
    const { stdout } = await followOnce([]);
    expect(stdout).not.toContain(ESC);
    expect(stdout).not.toContain('\u009b');
    expect(stdout).toContain('evil\\x1b]0;owned\\x1b\\');
    expect(stdout).toContain('op\\x9b2J');
  });

  it('as JSON lines: valid JSON, every terminal control escaped', async () => {
    const { stdout } = await followOnce(['-o', 'json']);
    const line = stdout.split('\n').find((l) => l.includes('evil'))!;
    expect(line).not.toContain(ESC);
    expect(line).not.toContain('\u009b');
    expect(JSON.parse(line)).toMatchObject({ model: `evil${ESC}]0;owned${ESC}\\`, operation: 'op\u009b2J' });
  });
});
