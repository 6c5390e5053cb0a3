import { afterEach, describe, expect, it } from 'vitest';
import { runChaos, type ChaosRunOptions } from '../../src/chaos/runner.js';
import { renderChaosMarkdown } from '../../src/chaos/journal-markdown.js';
import type { ChaosTarget } from '../../src/chaos/types.js';
import { GovernanceClient } from '../../src/client/governance-client.js';
import { UsageError } from '../../src/core/errors.js';
import { startLyingServer } from '../helpers/lying-server.js';
import { spawnServer, stopSpawnedServers } from '../helpers/spawned-server.js';

/**
 * The experiment runner against real `govctl serve` child processes (run `npm run build` first):
 * a real kill and restart, real samples and traffic over loopback, the real usage log.
 */

const clients: GovernanceClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await stopSpawnedServers();
});

function clientFor(adminKey: string) {
  return async (url: string, bound: boolean, signal?: AbortSignal) => {
    const client = new GovernanceClient({ baseUrl: url, timeoutMs: 5_000, adminKey, ...(bound && signal ? { signal } : {}) });
    clients.push(client);
    return client;
  };
}

function options(target: ChaosTarget, overrides: Partial<ChaosRunOptions> = {}): ChaosRunOptions {
  const controller = new AbortController();
  const make = clientFor(target.adminKey!);
  return {
    runId: `test-${Date.now()}`,
    target,
    probes: ['restart'],
    probeOptions: {
      intervalMs: 50,
      budgetMs: 30_000,
      healthySamples: 3,
      faultDurationMs: 500,
      allowRemote: false,
      maxBallastBytes: 16 * 2 ** 20,
      keepFreeBytes: 0,
      signalName: 'SIGKILL',
      toxics: [],
    },
    trafficRate: 20,
    clientFor: (url, bound) => make(url, bound, controller.signal),
    signal: controller.signal,
    ...overrides,
  };
}

describe('runChaos', () => {
  it('restart: the reference server recovers and loses none of the decisions acknowledged before the kill', async () => {
    const spawned = await spawnServer({ args: ['--rate-limit', '1000000/1s', '--sync', 'full'] });
    const target: ChaosTarget = { url: spawned.url, kind: 'managed', adminKey: spawned.adminToken, server: spawned.server, dataDir: spawned.dataDir };
    const pidBefore = spawned.server.pid;
    const phases: string[] = [];
    const report = await runChaos(
      options(target, { onEvent: (e) => (e.type === 'phase' ? phases.push(`${e.probe}:${e.phase}`) : undefined) }),
    );

    expect(report.schema).toBe('govctl.chaos/v1');
    expect(report.run.status).toBe('passed');
    const [journal] = report.data.probes;
    expect(journal!.probe).toBe('restart');
    expect(journal!.reasons).toEqual([]);
    expect(journal!.status).toBe('passed');
    expect(journal!.fault).toMatchObject({ kind: 'restart', params: { signal: 'SIGKILL', pid: pidBefore } });
    expect(journal!.recovery_s).not.toBeNull();
    expect(journal!.recovery_s!).toBeLessThanOrEqual(journal!.budget_s);
    expect(journal!.hypothesis.before.held).toBe(true);
    expect(journal!.hypothesis.after.held).toBe(true);
    expect(journal!.records).toMatchObject({ status: 'measured', lost: 0 });
    if (journal!.records.status === 'measured') expect(journal!.records.acknowledged).toBeGreaterThan(0);
    expect(journal!.checks.every((c) => c.passed)).toBe(true);
    expect(journal!.samples.length).toBeGreaterThan(0);
    expect(journal!.traffic).not.toHaveProperty('decisions');
    // The server runs again (a new process on the same port), and the run's key is revoked.
    expect(spawned.server.running).toBe(true);
    expect(spawned.server.pid).not.toBe(pidBefore);
    expect(phases).toEqual(expect.arrayContaining(['restart:before', 'restart:inject', 'restart:after', 'restart:accounting', 'restart:done']));
    const admin = await clientFor(spawned.adminToken)(spawned.url, false);
    const keys = await admin.listKeys();
    expect(keys.filter((k) => k.active !== false && (k.name ?? '').includes(report.run.id))).toEqual([]);

    const markdown = renderChaosMarkdown(report);
    expect(markdown).toContain('| restart | passed |');
    expect(markdown).toContain('## restart: passed');
  });

  it('restart: a server that acknowledges before writing loses decisions, and the probe fails saying how many', async () => {
    const lying = await startLyingServer({ flushMs: 60_000 });
    try {
      const target: ChaosTarget = { url: lying.url, kind: 'managed', adminKey: lying.adminKey, server: lying.server };
      const report = await runChaos(options(target));
      expect(report.run.status).toBe('failed');
      const [journal] = report.data.probes;
      expect(journal!.status).toBe('failed');
      expect(journal!.records.status).toBe('measured');
      if (journal!.records.status === 'measured') {
        expect(journal!.records.lost).toBeGreaterThan(0);
        expect(journal!.reasons).toContain(`${journal!.records.lost} of ${journal!.records.acknowledged} acknowledged decisions are missing from the usage log`);
      }
    } finally {
      await lying.close();
    }
  });

  it('interrupted right after the kill: the journal says so and the rollback leaves the server running', async () => {
    const spawned = await spawnServer({ args: ['--rate-limit', '1000000/1s'] });
    const target: ChaosTarget = { url: spawned.url, kind: 'managed', adminKey: spawned.adminToken, server: spawned.server, dataDir: spawned.dataDir };
    const pidBefore = spawned.server.pid;
    const controller = new AbortController();
    const base = options(target);
    const make = clientFor(spawned.adminToken);
    const report = await runChaos({
      ...base,
      signal: controller.signal,
      clientFor: (url, bound) => make(url, bound, controller.signal),
      onEvent: (e) => {
        if (e.type === 'phase' && e.phase === 'inject') controller.abort();
      },
    });
    expect(report.run.status).toBe('interrupted');
    const [journal] = report.data.probes;
    expect(journal!.status).toBe('interrupted');
    expect(journal!.records).toEqual({ status: 'not_measured', reason: 'the run was interrupted' });
    expect(journal!.fault?.params['pid']).toBe(pidBefore);
    // The journal is made after the rollbacks: the samples so far and the removal are in it.
    expect(journal!.samples.length).toBeGreaterThan(0);
    expect(journal!.fault?.removed_at).not.toBeNull();
    expect(spawned.server.running).toBe(true);
    expect(spawned.server.pid).not.toBe(pidBefore);
    const health = await fetch(`${spawned.server.url}/health`);
    expect(health.status).toBe(200);
  });

  it('a probe asked for that does not apply is refused before anything starts', async () => {
    const target: ChaosTarget = { url: 'http://127.0.0.1:9', kind: 'remote', adminKey: 'x.y' };
    await expect(runChaos(options(target))).rejects.toThrow(UsageError);
    await expect(runChaos(options(target))).rejects.toThrow(/restart probe does not apply/);
  });

  it('a probe that does not apply and was not asked for is journaled as skipped, with the reason', async () => {
    const target: ChaosTarget = { url: 'http://127.0.0.1:9', kind: 'remote', adminKey: 'x.y' };
    const { probes: _all, ...rest } = options(target);
    const report = await runChaos({ ...rest, probeImpls: { network: skippedProbe('network'), disk: skippedProbe('disk'), memory: skippedProbe('memory') } });
    expect(report.run.status).toBe('passed');
    const restart = report.data.probes.find((j) => j.probe === 'restart')!;
    expect(restart.status).toBe('skipped');
    expect(restart.reasons[0]).toMatch(/needs a server govctl manages/);
    expect(restart.records).toEqual({ status: 'not_measured', reason: 'the probe was skipped' });
  });

  it('errors with a clear reason when the steady state never holds before the fault, and injects nothing', async () => {
    // One decision a minute per key: the samples' checks are throttled (429), so the hypothesis never holds.
    const spawned = await spawnServer({ args: ['--rate-limit', '1/60s'] });
    const target: ChaosTarget = { url: spawned.url, kind: 'managed', adminKey: spawned.adminToken, server: spawned.server };
    const pid = spawned.server.pid;
    const report = await runChaos(options(target, { steadyStateTimeoutMs: 1_500 }));
    expect(report.run.status).toBe('error');
    const [journal] = report.data.probes;
    expect(journal!.status).toBe('error');
    expect(journal!.reasons[0]).toMatch(/steady state not reached before the fault/);
    expect(journal!.reasons[0]).toMatch(/429/);
    expect(journal!.fault).toBeNull();
    expect(spawned.server.pid).toBe(pid);
    expect(spawned.server.running).toBe(true);
  });
});

function skippedProbe(name: 'network' | 'disk' | 'memory') {
  return {
    name,
    skipReason: () => `${name} does not apply in this test`,
    inject: () => Promise.reject(new Error('never injected')),
  };
}
