import { afterEach, describe, expect, it } from 'vitest';
import { freePort, parseServerCommand, parseServerEnv, startServerCommand } from '../../src/chaos/server-command.js';
import { InvalidInputError, OperationFailedError } from '../../src/core/errors.js';
import { stopManagedServers } from '../../src/target/managed-server.js';

afterEach(async () => {
  await stopManagedServers('SIGKILL');
});

/** A tiny HTTP server as a `node -e` script: /health answers `status`, stderr says it booted. */
function serverScript(status: number): string {
  return `
    const port = Number(process.env.PORT || process.argv[1]);
    process.stderr.write('booting: database not ready\\n');
    require('node:http').createServer((req, res) => {
      res.writeHead(req.url === '/health' ? ${status} : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: ${status} === 200 ? 'ok' : 'starting', pid: process.pid }));
    }).listen(port, '127.0.0.1');
  `;
}

function invalid(run: () => unknown): InvalidInputError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).exitCode).toBe(2);
    return err as InvalidInputError;
  }
  throw new Error('expected an InvalidInputError');
}

describe('parseServerCommand', () => {
  it('splits on whitespace and honours quotes and escapes like a shell', () => {
    expect(parseServerCommand('python -m app --port {port}')).toEqual(['python', '-m', 'app', '--port', '{port}']);
    expect(parseServerCommand('  a \t b\n c  ')).toEqual(['a', 'b', 'c']);
    expect(parseServerCommand(`run 'two words' "and \\"three\\" here" x\\ y`)).toEqual(['run', 'two words', 'and "three" here', 'x y']);
    expect(parseServerCommand(`--name="a b"c 'it''s' ''`)).toEqual(['--name=a bc', 'its', '']);
    expect(parseServerCommand(`'$HOME | not a pipe' "back\\\\slash" "keep \\n"`)).toEqual(['$HOME | not a pipe', 'back\\slash', 'keep \\n']);
    expect(parseServerCommand('uvicorn app:main \\\n  --port {port}')).toEqual(['uvicorn', 'app:main', '--port', '{port}']);
    expect(parseServerCommand('a\\\nb')).toEqual(['ab']);
  });

  it('refuses unbalanced quotes, a trailing backslash, an empty command and shell operators', () => {
    expect(invalid(() => parseServerCommand(`python -c 'print(1)`)).message).toMatch(/--server-cmd: unbalanced ' quote at character 11/);
    expect(invalid(() => parseServerCommand('run "open')).message).toMatch(/unbalanced " quote/);
    expect(invalid(() => parseServerCommand('run x\\')).message).toMatch(/trailing backslash/);
    expect(invalid(() => parseServerCommand('   ')).message).toMatch(/the command is empty/);
    expect(invalid(() => parseServerCommand('')).message).toMatch(/the command is empty/);
    for (const text of ['app > log', 'app | tee', 'a; b', 'a && b', 'app --home $HOME', 'app "$HOME"', 'app `id`', 'app $(id)']) {
      const err = invalid(() => parseServerCommand(text));
      expect(err.message).toMatch(/no shell/);
      expect(err.hint).toMatch(/not through a shell/);
    }
  });
});

describe('parseServerEnv', () => {
  it('turns NAME=VALUE entries into a record; the value may hold = or be empty', () => {
    expect(parseServerEnv(['DATABASE_URL=postgres://u@h/db?x=1', 'EMPTY=', 'A=1', 'A=2'])).toEqual({ DATABASE_URL: 'postgres://u@h/db?x=1', EMPTY: '', A: '2' });
    expect(parseServerEnv([])).toEqual({});
  });

  it('refuses an entry without = or with a bad name, without showing the value', () => {
    expect(invalid(() => parseServerEnv(['OK=1', 'MISSING'])).message).toBe('--server-env "MISSING": expected NAME=VALUE');
    const err = invalid(() => parseServerEnv(['1BAD=s3cr3t-value']));
    expect(err.message).toMatch(/--server-env number 1: the name must be/);
    expect(err.message).not.toContain('s3cr3t');
    expect(invalid(() => parseServerEnv(['=x'])).message).toMatch(/number 1/);
  });
});

describe('startServerCommand', () => {
  it('runs the command on a free port put in place of {port}, and restarts it on the same port', async () => {
    const server = await startServerCommand({ argv: [process.execPath, '-e', serverScript(200), '{port}'], env: {}, startTimeoutMs: 10_000 });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const first = (await (await fetch(`${server.url}/health`)).json()) as { pid: number };
    expect(first.pid).toBe(server.pid);
    server.kill('SIGKILL');
    await server.exited;
    const restart = await server.restart({ startTimeoutMs: 10_000 });
    expect(restart.portChanged).toBe(false);
    const second = (await (await fetch(`${server.url}/health`)).json()) as { pid: number };
    expect(second.pid).toBe(server.pid);
    expect(second.pid).not.toBe(first.pid);
  });

  it('substitutes {port} in environment values and uses a given port and health URL', async () => {
    const port = await freePort();
    const server = await startServerCommand({
      argv: [process.execPath, '-e', serverScript(200)],
      env: { PORT: '{port}' },
      port,
      healthUrl: 'http://127.0.0.1:{port}/health',
      startTimeoutMs: 10_000,
    });
    expect(server.url).toBe(`http://127.0.0.1:${port}`);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('a command that does not exist is bad input (exit 2) naming the command; nothing is spawned', async () => {
    const spawned: number[] = [];
    const missing = startServerCommand({ argv: ['govctl-no-such-server-xyz', '--port', '{port}'], env: { PATH: '/usr/bin:/bin' }, onSpawn: (pid) => spawned.push(pid) });
    await expect(missing).rejects.toBeInstanceOf(InvalidInputError);
    await expect(missing).rejects.toThrow(/command not found: govctl-no-such-server-xyz \(not in the PATH/);
    const byPath = startServerCommand({ argv: ['./bin/no-such-server', '{port}'], env: {}, cwd: '/tmp' });
    await expect(byPath).rejects.toThrow(/command not found: \.\/bin\/no-such-server \(no executable file at \/tmp\/bin\/no-such-server\)/);
    await expect(byPath).rejects.toMatchObject({ exitCode: 2 });
    expect(spawned).toEqual([]);
  });

  it('a command without {port} and no port is bad input', async () => {
    await expect(startServerCommand({ argv: [process.execPath, '-e', '1'], env: {} })).rejects.toThrow(/must take its port from \{port\}/);
    const onlyHealth = startServerCommand({ argv: [process.execPath, '-e', '1'], env: {}, healthUrl: 'http://127.0.0.1:{port}/health' });
    await expect(onlyHealth).rejects.toThrow(/must take its port from \{port\}/);
  });

  it('a server that never becomes healthy fails (exit 1) naming the health URL and its stderr, and is stopped', async () => {
    const pids: number[] = [];
    const start = startServerCommand({ argv: [process.execPath, '-e', serverScript(500), '{port}'], env: {}, startTimeoutMs: 1_500, onSpawn: (pid) => pids.push(pid) });
    const err = (await start.catch((e: unknown) => e)) as OperationFailedError;
    expect(err).toBeInstanceOf(OperationFailedError);
    expect(err.exitCode).toBe(1);
    expect(err.message).toMatch(/did not become healthy at http:\/\/127\.0\.0\.1:\d+\/health/);
    expect(err.message).toMatch(/within 1500 ms: booting: database not ready/);
    expect(pids).toHaveLength(1);
    expect(() => process.kill(pids[0]!, 0)).toThrow(/ESRCH/);
  });

  it('a server that exits at once fails naming the URL and what it said', async () => {
    const start = startServerCommand({ argv: [process.execPath, '-e', 'console.error("no config file"); process.exit(3)', '{port}'], env: {}, startTimeoutMs: 10_000 });
    await expect(start).rejects.toBeInstanceOf(OperationFailedError);
    await expect(start).rejects.toThrow(/did not become healthy at .*\/health: .*exited before it was ready: no config file/);
  });
});
