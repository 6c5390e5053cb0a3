import { afterEach, describe, expect, it } from 'vitest';
import { restartProbe } from '../../src/chaos/probes/restart.js';
import { checkAcknowledgedRecords } from '../../src/chaos/records.js';
import type { ChaosTarget, InjectedFault, ProbeOptions } from '../../src/chaos/types.js';
import { GovernanceClient } from '../../src/client/governance-client.js';
import type { ManagedServer } from '../../src/target/managed-server.js';
import { startLyingServer } from '../helpers/lying-server.js';
import { probeHarness, type ProbeHarness } from '../helpers/probe-harness.js';
import { spawnServer, stopSpawnedServers } from '../helpers/spawned-server.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  await stopSpawnedServers();
});

function adminClient(url: string, adminKey: string): GovernanceClient {
  const client = new GovernanceClient({ baseUrl: url, adminKey, timeoutMs: 5_000 });
  cleanups.push(() => client.close());
  return client;
}

/** A user key and a harness (traffic + sampler) against a managed server. */
async function harnessFor(server: ManagedServer, adminKey: string, kind: ChaosTarget['kind'], options: Partial<ProbeOptions> = {}) {
  const admin = adminClient(server.url, adminKey);
  const key = await admin.createKey({ name: 'chaos-restart' });
  const target: ChaosTarget = { url: server.url, kind, adminKey, server };
  const h = probeHarness({ target, adminKey, token: key.api_key, options });
  cleanups.push(() => h.close());
  return { admin, keyId: key.key_id!, h };
}

/** One trial: traffic acknowledged some decisions, kill + restart, recovery, checks, records. */
async function trial(h: ProbeHarness, admin: GovernanceClient, keyId: string, since: Date) {
  await h.acknowledged(h.ctx.traffic.snapshot().acknowledged + 20);
  const pid = h.ctx.target.server!.pid;
  const fault: InjectedFault = await restartProbe.inject(h.ctx);
  await fault.remove();
  const recovered = await h.holding(fault.injected_at);
  // The traffic keeps going against the new process.
  await h.acknowledged(fault.acknowledged_before_kill!.acknowledged + 10);
  const checks = await fault.checks!();
  const acked = fault.acknowledged_before_kill!;
  const records = await checkAcknowledgedRecords(admin, { decisions: acked.decisions, keyIds: [keyId], since, until: new Date() });
  return { fault, pid, recovered, checks, acked, records };
}

describe('restart probe', () => {
  it('skips a target govctl does not manage', () => {
    expect(restartProbe.skipReason({ url: 'http://127.0.0.1:1', kind: 'remote' }, {} as ProbeOptions)).toBe(
      'restart needs a server govctl manages: the embedded server or --server-cmd',
    );
  });

  it('SIGKILL and restart of the reference server under traffic: recovers, 0 acknowledged decisions lost over 3 trials', async () => {
    const s = await spawnServer({ args: ['--rate-limit', '1000000/60s'] });
    const { admin, keyId, h } = await harnessFor(s.server, s.adminToken, 'embedded');
    const since = new Date();
    const port = new URL(s.url).port;
    for (let i = 0; i < 3; i++) {
      const { fault, pid, recovered, checks, acked, records } = await trial(h, admin, keyId, since);
      expect(fault).toMatchObject({ kind: 'restart', instantaneous: true, params: { signal: 'SIGKILL', pid } });
      expect(s.server.pid).not.toBe(pid);
      expect(s.server.running).toBe(true);
      expect(new URL(s.server.url).port).toBe(port);
      expect(recovered.t).toBeGreaterThan(fault.injected_at);
      expect(acked.decisions.length).toBe(acked.acknowledged);
      expect(acked.acknowledged).toBeGreaterThanOrEqual(20 * (i + 1));
      expect(records).toEqual({ status: 'measured', acknowledged: acked.decisions.length, lost: 0, lost_ids: [] });
      expect(checks.map((c) => [c.name, c.passed])).toEqual([
        ['restarted on the same port', true],
        ['keys unchanged', true],
        ['policies unchanged', true],
      ]);
      // remove() is idempotent: the server is not restarted again.
      const after = s.server.pid;
      await fault.remove();
      expect(s.server.pid).toBe(after);
    }
    const { traffic } = await h.close();
    // The reference server gives every acknowledged decision its id.
    expect(traffic.acknowledged_without_id).toBe(0);
    expect(traffic.decisions.length).toBe(traffic.acknowledged);
  }, 90_000);

  it('SIGTERM stops the reference server gracefully, then restarts it: 0 lost', async () => {
    const s = await spawnServer({ args: ['--rate-limit', '1000000/60s'] });
    const { admin, keyId, h } = await harnessFor(s.server, s.adminToken, 'embedded', { signalName: 'SIGTERM' });
    const { fault, checks, records, acked } = await trial(h, admin, keyId, new Date());
    expect(fault.params).toEqual({ signal: 'SIGTERM', pid: expect.any(Number) });
    expect(acked.acknowledged).toBeGreaterThan(0);
    expect(records).toMatchObject({ status: 'measured', lost: 0 });
    expect(checks.every((c) => c.passed)).toBe(true);
  }, 60_000);

  it('a server that acknowledges before writing loses acknowledged decisions when killed', async () => {
    // The log is flushed every 60 s: nothing acknowledged before the kill was written.
    const lying = await startLyingServer({ flushMs: 60_000 });
    cleanups.push(() => lying.close());
    const { admin, keyId, h } = await harnessFor(lying.server, lying.adminKey, 'managed');
    const { fault, checks, records, acked } = await trial(h, admin, keyId, new Date());
    expect(fault.instantaneous).toBe(true);
    expect(acked.acknowledged).toBeGreaterThanOrEqual(20);
    expect(records).toMatchObject({ status: 'measured', acknowledged: acked.decisions.length, lost: acked.decisions.length });
    expect(records.status === 'measured' && records.lost_ids.length).toBe(Math.min(20, acked.decisions.length));
    // Its keys are written at once: those survive.
    expect(checks.map((c) => [c.name, c.passed])).toEqual([
      ['restarted on the same port', true],
      ['keys unchanged', true],
      ['policies unchanged', true],
    ]);
  });

  it('a key revoked behind the probe\'s back shows as a failed "keys unchanged" check', async () => {
    const lying = await startLyingServer({ flushMs: 60_000 });
    cleanups.push(() => lying.close());
    const { admin, h } = await harnessFor(lying.server, lying.adminKey, 'managed');
    const other = await admin.createKey({ name: 'other' });
    await h.acknowledged(5);
    const fault = await restartProbe.inject(h.ctx);
    await fault.remove();
    await admin.revokeKey(other.key_id!);
    const keys = (await fault.checks!()).find((c) => c.name === 'keys unchanged')!;
    expect(keys.passed).toBe(false);
    expect(keys.detail).toBe(`1 active key(s) gone: ${other.key_id}`);
  });

  it('the restart goes on after an abort: remove() (the rollback) leaves the server running', async () => {
    const s = await spawnServer({ args: ['--rate-limit', '1000000/60s'] });
    const { h } = await harnessFor(s.server, s.adminToken, 'embedded');
    await h.acknowledged(5);
    const fault = await restartProbe.inject(h.ctx);
    h.abort.abort();
    await fault.remove();
    expect(s.server.running).toBe(true);
    const health = await adminClient(s.server.url, s.adminToken).health();
    expect(health.healthy).toBe(true);
  }, 60_000);
});
