import { execa, type ResultPromise } from 'execa';
import { InterruptedError, OperationFailedError } from '../core/errors.js';

/**
 * The memory ballast: a child process that allocates `bytes` outside the V8 heap, writes every
 * page so the kernel really backs it, says so on stdout, and holds it until its stdin closes
 * (so it cannot outlive govctl, however govctl ends) or it is killed. A child and not this
 * process: the pressure must not slow the sampler that measures it, and killing it frees all.
 * The script is passed with `node -e`, so it runs the same from src/ (vitest) and dist/.
 */
const CHILD_SOURCE = `
const total = Number(process.argv[1]);
const chunk = 16 * 1024 * 1024;
const held = [];
let allocated = 0;
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
while (allocated < total) {
  const size = Math.min(chunk, total - allocated);
  const buffer = Buffer.allocUnsafeSlow(size);
  for (let i = 0; i < size; i += 4096) buffer[i] = 1;
  held.push(buffer);
  allocated += size;
}
process.stdout.write(JSON.stringify({ held: allocated }) + '\\n');
`;

export interface BallastChild {
  pid: number;
  /** Bytes allocated and touched. */
  bytes: number;
  /** When the whole ballast was in place (Date.now()). */
  heldAt: number;
  readonly running: boolean;
  /** Kills the child (SIGKILL) and waits for it; idempotent. */
  release(): Promise<void>;
}

export interface BallastOptions {
  bytes: number;
  /** How long allocating may take (default 60 s). */
  timeoutMs?: number;
  /** Aborting kills the child at once, whether it is still allocating or holding. */
  signal?: AbortSignal;
  /** Called with the pid as soon as the child is spawned. */
  onSpawn?: (pid: number) => void;
}

/** Spawns the ballast and resolves once it holds `bytes`; on any failure the child is gone before this throws. */
export async function startMemoryBallast(options: BallastOptions): Promise<BallastChild> {
  if (options.signal?.aborted) throw new InterruptedError('interrupted before the memory ballast started');
  const bytes = Math.max(0, Math.floor(options.bytes));
  const child: ResultPromise = execa(process.execPath, ['-e', CHILD_SOURCE, String(bytes)], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    extendEnv: false,
    env: {},
    forceKillAfterDelay: false,
    cleanup: true,
  });
  let running = true;
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    stderr = (stderr + text).slice(-2_000);
  });
  const exited = child.then(
    () => undefined,
    () => undefined,
  );
  void exited.then(() => {
    running = false;
  });
  const kill = () => {
    if (running) child.kill('SIGKILL');
  };
  const onAbort = () => kill();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const release = async () => {
    options.signal?.removeEventListener('abort', onAbort);
    kill();
    await exited;
  };
  options.onSpawn?.(child.pid ?? 0);
  try {
    await held(child, exited, options.timeoutMs ?? 60_000, options.signal);
  } catch (err) {
    await release();
    if (err instanceof InterruptedError) throw err;
    const said = stderr.trim() === '' ? '' : `: ${stderr.trim().split('\n').slice(-2).join(' | ')}`;
    throw new OperationFailedError(`the memory ballast (${bytes} bytes) ${(err as Error).message}${said}`);
  }
  return {
    pid: child.pid ?? 0,
    bytes,
    heldAt: Date.now(),
    get running() {
      return running;
    },
    release,
  };
}

/** Resolves at the child's "held" line; rejects when it exits first, times out or is aborted. */
function held(child: ResultPromise, exited: Promise<void>, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`was not in place within ${timeoutMs} ms`)), timeoutMs);
    const done = () => clearTimeout(timer);
    void exited.then(() => {
      done();
      if (signal?.aborted) reject(new InterruptedError('interrupted while the memory ballast was allocating'));
      else reject(new Error('exited before it held its memory'));
    });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) {
        done();
        resolve();
      }
    });
  });
}
