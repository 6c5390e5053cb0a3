import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { startMemoryBallast } from '../../src/chaos/ballast-memory-child.js';
import { MIN_MEMORY_MARGIN_BYTES, isLoopbackUrl, memoryBallastBytes, memoryProbe } from '../../src/chaos/probes/memory.js';
import type { ChaosTarget, InjectedFault, ProbeOptions } from '../../src/chaos/types.js';
import { GovernanceClient } from '../../src/client/governance-client.js';
import { InterruptedError } from '../../src/core/errors.js';
import { probeHarness } from '../helpers/probe-harness.js';
import { spawnServer, stopSpawnedServers } from '../helpers/spawned-server.js';

const MiB = 1024 * 1024;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  await stopSpawnedServers();
});

function rssBytes(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(kb?.[1] ?? 0) * 1024;
}

function alive(pid: number): boolean {
  // A zombie is gone for our purpose: it holds no memory.
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Waits (bounded) for a killed process to disappear: there is no event for another process's exit. */
async function gone(pid: number, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await delay(10);
  return !alive(pid);
}

async function harness(options: Partial<ProbeOptions> = {}) {
  const s = await spawnServer({ args: ['--rate-limit', '1000000/60s'] });
  const admin = new GovernanceClient({ baseUrl: s.url, adminKey: s.adminToken, timeoutMs: 5_000 });
  cleanups.push(() => admin.close());
  const key = await admin.createKey({ name: 'chaos-memory' });
  const target: ChaosTarget = { url: s.url, kind: 'embedded', adminKey: s.adminToken, server: s.server, dataDir: s.dataDir };
  const h = probeHarness({ target, adminKey: s.adminToken, token: key.api_key, options });
  cleanups.push(() => h.close());
  return { s, h };
}

const probeOptions = (o: Partial<ProbeOptions>) => ({ maxBallastBytes: 64 * MiB, keepFreeBytes: 0, allowRemote: false, ...o }) as ProbeOptions;

describe('memory ballast size and applicability', () => {
  it('takes min(--max-ballast, free memory - the margin), never less than 0', () => {
    expect(memoryBallastBytes({ maxBallastBytes: 64 * MiB, keepFreeBytes: 0 }, 4096 * MiB)).toBe(64 * MiB);
    expect(memoryBallastBytes({ maxBallastBytes: 4096 * MiB, keepFreeBytes: 1024 * MiB }, 1536 * MiB)).toBe(512 * MiB);
    // --keep-free below the floor still keeps the floor.
    expect(memoryBallastBytes({ maxBallastBytes: 4096 * MiB, keepFreeBytes: 0 }, 1024 * MiB)).toBe(1024 * MiB - MIN_MEMORY_MARGIN_BYTES);
    expect(memoryBallastBytes({ maxBallastBytes: 64 * MiB, keepFreeBytes: 0 }, 100 * MiB)).toBe(0);
  });

  it('skips a remote target unless --allow-remote; a remote target on loopback applies', () => {
    const remote = { url: 'https://gov.example.com', kind: 'remote' } as const;
    expect(memoryProbe.skipReason(remote, probeOptions({}))).toMatch(/target is remote: pass --allow-remote/);
    expect(memoryProbe.skipReason(remote, probeOptions({ allowRemote: true }))).toBeUndefined();
    expect(memoryProbe.skipReason({ url: 'http://127.0.0.1:8000', kind: 'remote' }, probeOptions({}))).toBeUndefined();
    expect(memoryProbe.skipReason({ url: 'http://x', kind: 'embedded' }, probeOptions({ maxBallastBytes: 1024 }))).toMatch(/not enough free memory/);
    expect(['http://localhost:1', 'http://[::1]:2', 'http://127.1.2.3'].map(isLoopbackUrl)).toEqual([true, true, true]);
    expect(['http://10.0.0.1', 'not a url', 'http://localhost.example.com'].map(isLoopbackUrl)).toEqual([false, false, false]);
  });
});

describe('memory probe', () => {
  it('a ballast child holds ~64 MiB while the reference server keeps answering; remove() frees it', async () => {
    const { s, h } = await harness();
    await h.holding(Date.now());
    const fault: InjectedFault = await memoryProbe.inject(h.ctx);
    const pid = fault.params['pid'] as number;
    expect(fault).toMatchObject({ kind: 'memory-ballast', instantaneous: false, params: { bytes: 64 * MiB } });
    expect(pid).not.toBe(s.server.pid);
    expect(rssBytes(pid)).toBeGreaterThanOrEqual(60 * MiB);
    expect(fault.params['rss_bytes']).toBeGreaterThanOrEqual(60 * MiB);
    // Samples taken while the ballast is held.
    await h.holding(fault.injected_at);
    await h.ctx.sampler.waitFor(() => true, Date.now() + 100, 5_000);
    await fault.remove();
    expect(await gone(pid)).toBe(true);
    await fault.remove();
    const checks = await fault.checks!();
    expect(checks.map((c) => [c.name, c.passed])).toEqual([
      ['the server stayed up under memory pressure', true],
      ['latency budget kept or degraded gracefully', true],
    ]);
    expect(checks[1]!.detail).toMatch(/^\d+ of \d+ samples held the hypothesis; slowest check \d+ ms/);
    expect(s.server.running).toBe(true);
  });

  it('an abort kills the ballast child (the run\'s signal is enough, without remove())', async () => {
    const { h } = await harness();
    const fault = await memoryProbe.inject(h.ctx);
    const pid = fault.params['pid'] as number;
    expect(alive(pid)).toBe(true);
    h.abort.abort();
    expect(await gone(pid)).toBe(true);
    await fault.remove();
  });

  it('a failed check names hard failures: the server killed under pressure', async () => {
    const { s, h } = await harness();
    const fault = await memoryProbe.inject(h.ctx);
    s.server.kill('SIGKILL');
    await s.server.exited;
    await h.ctx.sampler.waitFor((x) => x.error !== undefined, Date.now(), 5_000);
    await fault.remove();
    const checks = await fault.checks!();
    expect(checks[0]).toMatchObject({ passed: false, detail: expect.stringMatching(/^process \d+ exited$/) });
    expect(checks[1]).toMatchObject({ passed: false, detail: expect.stringMatching(/failed hard: .*refused/) });
  });

  it('aborting while the ballast allocates kills the child and throws InterruptedError', async () => {
    const abort = new AbortController();
    let pid = 0;
    const start = startMemoryBallast({
      bytes: 1024 * MiB,
      signal: abort.signal,
      onSpawn: (p) => {
        pid = p;
        abort.abort();
      },
    });
    await expect(start).rejects.toBeInstanceOf(InterruptedError);
    expect(pid).toBeGreaterThan(0);
    expect(existsSync(`/proc/${pid}`) && alive(pid)).toBe(false);
  });

  it('the ballast child exits by itself when govctl is SIGKILLed (its stdin closes)', async () => {
    // A stand-in for govctl: a node process that starts a ballast, prints its pid and waits.
    const module = new URL('../../src/chaos/ballast-memory-child.ts', import.meta.url).href;
    const script = `const { startMemoryBallast } = await import(${JSON.stringify(module)});
      const b = await startMemoryBallast({ bytes: 8 * 1024 * 1024 });
      console.log(b.pid);
      setInterval(() => {}, 1000);`;
    const parent = execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { reject: false, buffer: false });
    cleanups.push(async () => {
      parent.kill('SIGKILL');
      await parent;
    });
    const pid = await new Promise<number>((resolve, reject) => {
      parent.stdout!.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim())));
      void parent.then(() => reject(new Error('the parent exited before starting the ballast')));
    });
    expect(alive(pid)).toBe(true);
    parent.kill('SIGKILL');
    await parent;
    expect(await gone(pid)).toBe(true);
  }, 60_000);
});
