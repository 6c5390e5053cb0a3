import { watch } from 'node:fs';
import { mkdtemp, readdir, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BALLAST_PREFIX, fillFilesystem, type Ballast } from '../../src/chaos/ballast-file.js';
import { diskProbe } from '../../src/chaos/probes/disk.js';
import { runProbe, type RunProbeOptions } from '../../src/chaos/run-probe.js';
import type { ChaosEvent, ChaosTarget, ProbeContext, ProbeOptions, TrafficRecord } from '../../src/chaos/types.js';
import { GovernanceClient } from '../../src/client/governance-client.js';
import { InterruptedError } from '../../src/core/errors.js';
import { mountSmallFs, type SmallFs } from '../helpers/small-fs.js';
import { spawnServer, stopSpawnedServers } from '../helpers/spawned-server.js';

/**
 * The disk probe on a real small filesystem (a 24 MiB tmpfs mounted by the test, where the
 * machine allows it; otherwise skipped, saying why): the ballast's bounds and cleanup, and the
 * probe's inject/remove/checks against a `govctl serve` child whose data dir is on that tmpfs.
 */

const MIB = 1024 * 1024;
let small: SmallFs | undefined;
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await stopSpawnedServers();
  await small?.unmount();
  small = undefined;
});

/** The mounted tmpfs, or skips the test with the reason. */
async function smallFs(ctx: { skip: (note?: string) => void }): Promise<SmallFs> {
  const mounted = await mountSmallFs({ sizeMiB: 24 });
  if (!mounted.fs) {
    console.warn(`skipped: ${mounted.reason}`);
    ctx.skip(mounted.reason);
    throw new Error('unreachable');
  }
  small = mounted.fs;
  return small;
}

const ballasts = async (dir: string) => (await readdir(dir)).filter((n) => n.startsWith(BALLAST_PREFIX));
const freeBytes = async (dir: string) => {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
};

describe('fillFilesystem', () => {
  it('fills a small filesystem to ENOSPC; remove() deletes the file and can be called again', async (ctx) => {
    const fs = await smallFs(ctx);
    const ballast = await fillFilesystem(fs.dir, { maxBytes: 64 * MIB, keepFreeBytes: 0, createdFs: true });
    cleanups.push(() => ballast.remove());
    expect(ballast).toMatchObject({ reachedEnospc: true, stoppedBy: 'enospc' });
    expect(ballast.bytes).toBeGreaterThan(20 * MIB);
    expect(await freeBytes(fs.dir)).toBeLessThan(MIB);
    await ballast.remove();
    await ballast.remove();
    expect(await ballasts(fs.dir)).toEqual([]);
    expect(await freeBytes(fs.dir)).toBeGreaterThan(23 * MIB);
  });

  it('on a filesystem it did not create, leaves keepFreeBytes free (and createdFs lifts that floor)', async (ctx) => {
    const fs = await smallFs(ctx);
    const ballast = await fillFilesystem(fs.dir, { maxBytes: 64 * MIB, keepFreeBytes: 8 * MIB, createdFs: false });
    cleanups.push(() => ballast.remove());
    expect(ballast).toMatchObject({ reachedEnospc: false, stoppedBy: 'keep-free' });
    const free = await freeBytes(fs.dir);
    expect(free).toBeGreaterThanOrEqual(8 * MIB);
    expect(free).toBeLessThan(9 * MIB);
  });

  it('never writes more than maxBytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'govctl-ballast-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const ballast: Ballast = await fillFilesystem(dir, { maxBytes: 3 * MIB + 5, keepFreeBytes: 0, createdFs: false });
    expect(ballast).toMatchObject({ bytes: 3 * MIB + 5, reachedEnospc: false, stoppedBy: 'max-ballast' });
    await ballast.remove();
    expect(await ballasts(dir)).toEqual([]);
  });

  it('an abort mid-fill rejects with InterruptedError and leaves no ballast behind', async (ctx) => {
    const fs = await smallFs(ctx);
    const controller = new AbortController();
    // Aborted as soon as the ballast file appears: the fill is then still writing.
    const watcher = watch(fs.dir, () => controller.abort());
    cleanups.push(async () => watcher.close());
    await expect(fillFilesystem(fs.dir, { maxBytes: 64 * MIB, keepFreeBytes: 0, createdFs: true, signal: controller.signal })).rejects.toBeInstanceOf(
      InterruptedError,
    );
    expect(controller.signal.aborted).toBe(true);
    expect(await ballasts(fs.dir)).toEqual([]);
    expect(await freeBytes(fs.dir)).toBeGreaterThan(23 * MIB);
  });
});

const OPTIONS: ProbeOptions = {
  intervalMs: 100,
  budgetMs: 60_000,
  healthySamples: 3,
  faultDurationMs: 4000,
  signal: new AbortController().signal,
  allowRemote: false,
  maxBallastBytes: 1024 * MIB,
  keepFreeBytes: 0,
  signalName: 'SIGKILL',
  toxics: [],
};

describe('diskProbe.skipReason', () => {
  it('applies only to a server whose data dir it knows, and not to a remote one unless allowed', () => {
    const local: ChaosTarget = { url: 'http://127.0.0.1:1', kind: 'managed', dataDir: '/tmp/x' };
    expect(diskProbe.skipReason(local, OPTIONS)).toBeUndefined();
    expect(diskProbe.skipReason({ url: 'http://127.0.0.1:1', kind: 'managed' }, OPTIONS)).toMatch(/no data directory/);
    const remote: ChaosTarget = { url: 'http://gov.example:8080', kind: 'remote', dataDir: '/mnt/gov' };
    expect(diskProbe.skipReason(remote, OPTIONS)).toMatch(/--allow-remote/);
    expect(diskProbe.skipReason(remote, { ...OPTIONS, allowRemote: true })).toBeUndefined();
  });
});

const EMPTY_TRAFFIC: TrafficRecord = { sent: 0, acknowledged: 0, decisions: [], acknowledged_without_id: 0, errors: {}, statuses: {} };

describe('diskProbe against govctl serve on a full disk', () => {
  it('fills the data dir, sees 503 + Retry-After and live health/reads, removes the ballast, and the checks pass', async (ctx) => {
    const fs = await smallFs(ctx);
    const srv = await spawnServer({ dataDir: join(fs.dir, 'data'), args: ['--rate-limit', '1000000/60s', '--sync', 'full'] });
    const client = new GovernanceClient({ baseUrl: srv.url, adminKey: srv.adminToken, timeoutMs: 5000 });
    cleanups.push(() => client.close());
    const events: ChaosEvent[] = [];
    const probeCtx: ProbeContext = {
      target: { url: srv.url, kind: 'managed', adminKey: srv.adminToken, server: srv.server, dataDir: srv.dataDir },
      client,
      cleanupClient: client,
      options: OPTIONS,
      // The runner's traffic and sampler are not needed by the probe's own checks.
      traffic: { snapshot: () => EMPTY_TRAFFIC, stop: async () => EMPTY_TRAFFIC },
      sampler: { setPhase: () => undefined, samples: [], waitFor: async () => undefined, stop: async () => [] },
      emit: (e) => events.push(e),
    };
    expect(diskProbe.skipReason(probeCtx.target, OPTIONS)).toBeUndefined();

    const fault = await diskProbe.inject(probeCtx);
    cleanups.push(() => fault.remove());
    expect(fault).toMatchObject({ kind: 'disk-ballast', instantaneous: false, params: { reached_enospc: true } });
    expect(await ballasts(fs.dir)).toHaveLength(0); // the ballast is in the data dir, not the mount root
    expect(await ballasts(srv.dataDir)).toHaveLength(1);
    // Full for a while: the probe watches health, reads and decisions meanwhile.
    await new Promise((resolve) => setTimeout(resolve, OPTIONS.faultDurationMs));
    await fault.remove();
    expect(await ballasts(srv.dataDir)).toEqual([]);

    // Recovery (the runner measures it): decisions are answered again once space is back.
    const user = await client.createKey({ name: 'after', role: 'user' });
    let answered = false;
    for (let i = 0; i < 100 && !answered; i++) {
      answered = await client.check(user.api_key, { model: 'm', operation: 'o' }).then(
        () => true,
        () => false,
      );
      if (!answered) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(answered).toBe(true);

    const checks = await fault.checks!();
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    for (const c of checks) expect(c.passed, `${c.name}: ${c.detail}`).toBe(true);
    expect(byName['disk filled (ENOSPC)']!.detail).toMatch(/ENOSPC/);
    expect(byName['writes refused with 503 + Retry-After while full']!.detail).toMatch(/\d+ x 503/);
    // Answered is the probe's contract (200 or 503, never refused); that the reference server
    // turns 503 while decisions cannot be written is test/server/disk-full.test.ts's to prove.
    expect(byName['health answered while full']!.detail).toMatch(/\b(200|503)\b/);
    expect(byName['database integrity']!.detail).toBe('PRAGMA integrity_check: ok');
    expect(Object.keys(byName)).toEqual(
      expect.arrayContaining(['reads answered while full', 'decisions acknowledged while full are in the usage log', 'server process survived']),
    );
    expect(events.filter((e) => e.type === 'warning')).toEqual([]);
  });
});

describe('diskProbe run by runProbe (traffic, samples, accounting)', () => {
  /** runProbe's options against a govctl serve child whose data dir is on the small tmpfs. */
  async function setUp(fs: SmallFs, signal: AbortSignal, emit: RunProbeOptions['emit']): Promise<RunProbeOptions> {
    const srv = await spawnServer({ dataDir: join(fs.dir, 'data'), args: ['--rate-limit', '1000000/60s'] });
    const admin = new GovernanceClient({ baseUrl: srv.url, adminKey: srv.adminToken, timeoutMs: 5000 });
    cleanups.push(() => admin.close());
    const user = await admin.createKey({ name: 'chaos-disk', role: 'user' });
    return {
      probe: diskProbe,
      target: { url: srv.url, kind: 'managed', adminKey: srv.adminToken, server: srv.server, dataDir: srv.dataDir },
      options: { ...OPTIONS, budgetMs: 30_000, faultDurationMs: 3000, signal },
      token: user.api_key,
      keyIds: [user.key_id!],
      trafficRate: 20,
      latencyBudgetMs: 500,
      clientFor: async (url) => {
        const client = new GovernanceClient({ baseUrl: url, adminKey: srv.adminToken, timeoutMs: 2000 });
        cleanups.push(() => client.close());
        return client;
      },
      emit,
    };
  }

  it('passes against govctl serve: detected, recovered, nothing acknowledged lost, every check passed', async (ctx) => {
    const fs = await smallFs(ctx);
    const journal = await runProbe(await setUp(fs, new AbortController().signal, () => undefined));
    expect(journal.status, journal.reasons.join('; ')).toBe('passed');
    expect(journal.fault).toMatchObject({ kind: 'disk-ballast', params: { reached_enospc: true } });
    expect(journal.detection_s).not.toBeNull();
    expect(journal.recovery_s).not.toBeNull();
    expect(journal.records).toMatchObject({ status: 'measured', lost: 0 });
    expect(journal.traffic.statuses['503']).toBeGreaterThan(0);
    for (const c of journal.checks) expect(c.passed, `${c.name}: ${c.detail}`).toBe(true);
    expect(await ballasts(join(fs.dir, 'data'))).toEqual([]);
  });

  it('Ctrl-C while the disk is full: interrupted, the ballast removed, the server still running', async (ctx) => {
    const fs = await smallFs(ctx);
    const controller = new AbortController();
    const options = await setUp(fs, controller.signal, (event) => {
      if (event.type === 'phase' && event.phase === 'during') controller.abort();
    });
    const journal = await runProbe(options);
    expect(journal.status).toBe('interrupted');
    expect(await ballasts(join(fs.dir, 'data'))).toEqual([]);
    expect(options.target.server!.running).toBe(true);
    expect(await freeBytes(fs.dir)).toBeGreaterThan(20 * MIB);
  });
});
