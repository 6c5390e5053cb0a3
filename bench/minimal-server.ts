import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * The benches' minimal target: node:http with keep-alive and a small JSON body, run as its own
 * process (`node -e MINIMAL_SERVER_SCRIPT [PORT]`) so it does not share the load generator's
 * event loop. It listens on PORT (0: a free one), prints the port on stdout, and answers /health
 * with a health document so govctl's pre-run check passes.
 */
export const MINIMAL_SERVER_SCRIPT = `
const http = require('node:http');
const body = Buffer.from(JSON.stringify({ allowed: true, risk_score: 0, reason: 'ok' }));
const health = JSON.stringify({ status: 'ok', version: 'bench', uptime_s: 1 });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url === '/health') return res.end(health);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[1] ?? 0), '127.0.0.1', () => console.log(server.address().port));
`;

let child: ChildProcess | undefined;

/** Ends the minimal server started by startMinimalServer (idempotent; also on Ctrl-C). */
export function stopMinimalServer(): void {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Starts the minimal server as a child process on a free loopback port; resolves with the port. */
export async function startMinimalServer(): Promise<number> {
  process.once('SIGINT', () => {
    stopMinimalServer();
    process.exit(130);
  });
  child = spawn(process.execPath, ['-e', MINIMAL_SERVER_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) return Number(line.trim());
  throw new Error('the target server exited before listening');
}
