import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { HttpResponse } from '../../client/http.js';
import { messageOf } from '../../core/errors.js';
import { fillFilesystem, type Ballast } from '../ballast-file.js';
import { checkAcknowledgedRecords } from '../records.js';
import type { ChaosTarget, InjectedFault, Probe, ProbeCheck, ProbeContext, ProbeOptions } from '../types.js';

/**
 * disk: fills the filesystem of the managed server's data directory with a bounded ballast file
 * (ballast-file.ts), keeps it full for the fault's duration, then deletes it. While full, the
 * probe watches the server itself (its own key, so it sees headers the samples do not keep):
 * /health must keep answering (200 or 503, never a refused connection), admin reads must keep
 * answering 200, decisions must be refused with 503 + Retry-After (every 200 is in the usage log
 * afterwards), and the process must not exit. After removal: the database passes SQLite's
 * `PRAGMA integrity_check`, read through a read-only connection of our own (the data dir is on
 * this machine: the probe applies only to a server whose data dir it knows). The runner
 * measures the recovery.
 */

/** The reference server's database file in its data dir (server/store/state.ts DATABASE_FILE). */
export const DATABASE_FILE = 'govctl.db';
/** Decisions sent back to back once the disk is full, until the first refusal. */
const MAX_DRAIN_CHECKS = 200;
/** Then one decision per interval, at most this many. */
const MAX_OBSERVED_CHECKS = 60;
const MIN_OBSERVE_EVERY_MS = 200;
const MIB = 1024 * 1024;

type Observation = { status: number; retryAfter: string | undefined; decisionId?: string } | { error: string };

interface Observations {
  checks: Observation[];
  health: Observation[];
  reads: Observation[];
  /** The probe's own acknowledged decisions, for the usage-log check. */
  acknowledged: Array<{ id: string; t: number }>;
}

export const diskProbe: Probe = {
  name: 'disk',

  skipReason(target: ChaosTarget, options: ProbeOptions): string | undefined {
    if (target.kind === 'remote' && !options.allowRemote) {
      return 'the disk probe fills the filesystem of the server\'s data directory and the target is remote: pass --allow-remote (with a data dir on this machine) to run it anyway';
    }
    if (target.dataDir === undefined) {
      return 'no data directory known: the disk probe needs a reference server govctl manages (embedded, or govctl serve with its --data-dir)';
    }
    if (!(options.maxBallastBytes > 0)) return '--max-ballast is 0: nothing to fill the disk with';
    return undefined;
  },

  async inject(ctx: ProbeContext): Promise<InjectedFault> {
    const dataDir = ctx.target.dataDir!;
    const server = ctx.target.server;
    const serverPid = server?.running ? server.pid : undefined;
    const fs = await statfs(dataDir);
    const own = ctx.target.adminKey ? await ownKey(ctx) : undefined;
    let ballast: Ballast;
    try {
      ballast = await fillFilesystem(dataDir, {
        maxBytes: ctx.options.maxBallastBytes,
        keepFreeBytes: ctx.options.keepFreeBytes,
        createdFs: false,
        signal: ctx.options.signal,
      });
    } catch (err) {
      await own?.revoke();
      throw err;
    }
    const injectedAt = Date.now();
    if (!ballast.reachedEnospc) {
      ctx.emit({
        type: 'warning',
        message: `disk: the filesystem was not filled (stopped by ${ballast.stoppedBy} after ${mib(ballast.bytes)}): the server still has space, so its full-disk behaviour is not exercised`,
      });
    }
    const seen: Observations = { checks: [], health: [], reads: [], acknowledged: [] };
    const watching = observe(ctx, own?.token, seen);
    let removing: Promise<void> | undefined;
    const remove = (): Promise<void> =>
      (removing ??= (async () => {
        await watching.stop();
        await ballast.remove();
        await own?.revoke();
      })().catch((err: unknown) => {
        // The ballast is still there: a later remove() (the rollback) tries again.
        removing = undefined;
        throw err;
      }));
    return {
      kind: 'disk-ballast',
      params: {
        data_dir: dataDir,
        ballast_bytes: ballast.bytes,
        reached_enospc: ballast.reachedEnospc,
        stopped_by: ballast.stoppedBy,
        fs_size_bytes: fs.blocks * fs.bsize,
        free_before_bytes: fs.bavail * fs.bsize,
      },
      injected_at: injectedAt,
      instantaneous: false,
      remove,
      async checks(): Promise<ProbeCheck[]> {
        await remove();
        // Revoking right after the removal may have met a server still catching up: once more.
        await own?.revoke();
        const checks: ProbeCheck[] = [
          filledCheck(ballast),
          healthCheck(seen.health),
          ...(own ? [readsCheck(seen.reads), writesCheck(seen.checks, ballast.reachedEnospc)] : []),
        ];
        if (own) checks.push(await ownRecordsCheck(ctx, own.keyId, seen.acknowledged, injectedAt));
        checks.push(processCheck(ctx.target, serverPid));
        checks.push(integrityCheck(dataDir));
        return checks;
      },
    };
  },
};

/** A user key of the probe's own (made before the disk is full: creating it is a write). */
async function ownKey(ctx: ProbeContext): Promise<{ token: string; keyId: string; revoke(): Promise<void> } | undefined> {
  try {
    const key = await ctx.cleanupClient.createKey({ name: 'govctl-chaos-disk', role: 'user' });
    const keyId = key.key_id ?? key.api_key.split('.')[0]!;
    let revoked = false;
    return {
      token: key.api_key,
      keyId,
      async revoke() {
        if (revoked) return;
        try {
          await ctx.cleanupClient.revokeKey(keyId);
          revoked = true;
        } catch (err) {
          ctx.emit({ type: 'warning', message: `disk: could not revoke the probe's key ${keyId}: ${messageOf(err)}` });
        }
      },
    };
  } catch (err) {
    ctx.emit({ type: 'warning', message: `disk: could not create a key for the probe's own checks (${messageOf(err)}): only health is watched` });
    return undefined;
  }
}

/** Watches the server while the disk is full, until stop(). */
function observe(ctx: ProbeContext, token: string | undefined, seen: Observations): { stop(): Promise<void> } {
  const stopper = new AbortController();
  const signal = AbortSignal.any([stopper.signal, ctx.options.signal]);
  const every = Math.max(MIN_OBSERVE_EVERY_MS, ctx.options.intervalMs);
  const http = ctx.client.http;
  const ask = async (into: Observation[], send: () => Promise<HttpResponse>): Promise<HttpResponse | undefined> => {
    try {
      const r = await send();
      const retryAfter = r.headers['retry-after'];
      into.push({ status: r.status, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter });
      return r;
    } catch (err) {
      if (!signal.aborted) into.push({ error: messageOf(err) });
      return undefined;
    }
  };
  const pace = async (tick: number): Promise<void> => {
    const wait = every - (Date.now() - tick);
    if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
  };
  const decide = async (): Promise<number | undefined> => {
    const r = await ask(seen.checks, () =>
      http.request('POST', '/v1/check', { auth: { token: token! }, body: { model: 'govctl-chaos', operation: 'disk-probe' }, retry: false }),
    );
    const id = (r?.body as { decision_id?: unknown } | undefined)?.decision_id;
    if (r?.status === 200 && typeof id === 'string') seen.acknowledged.push({ id, t: Date.now() });
    return r?.status;
  };
  const watchLoop = async (): Promise<void> => {
    while (!signal.aborted) {
      const tick = Date.now();
      await Promise.all([
        ask(seen.health, () => http.request('GET', '/health', { retry: false })),
        token ? ask(seen.reads, () => http.request('GET', '/api/admin/keys', { auth: 'admin', retry: false })) : undefined,
      ]);
      await pace(tick);
    }
  };
  const checkLoop = async (): Promise<void> => {
    if (!token) return;
    // The WAL file may still have room the disk has not (its pages are reused after a
    // checkpoint): decisions back to back use it up, until the first refusal.
    for (let i = 0; i < MAX_DRAIN_CHECKS && !signal.aborted; i++) {
      if ((await decide()) !== 200) break;
    }
    for (let i = 0; i < MAX_OBSERVED_CHECKS && !signal.aborted; i++) {
      const tick = Date.now();
      await decide();
      await pace(tick);
    }
  };
  const loop = Promise.all([watchLoop(), checkLoop()]);
  return {
    async stop() {
      stopper.abort();
      await loop;
    },
  };
}

const isAnswer = (o: Observation): o is Extract<Observation, { status: number }> => 'status' in o;

function tally(observations: Observation[]): string {
  const counts = new Map<string, number>();
  for (const o of observations) {
    const k = isAnswer(o) ? String(o.status) : o.error;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n} x ${k}`).join(', ') || 'none';
}

function filledCheck(ballast: Ballast): ProbeCheck {
  return {
    name: 'disk filled (ENOSPC)',
    // Not filling a big disk within --max-ballast/--keep-free is a bound doing its job, not a failure.
    passed: true,
    detail: ballast.reachedEnospc
      ? `the filesystem answered ENOSPC after a ${mib(ballast.bytes)} ballast`
      : `not reached: stopped by ${ballast.stoppedBy} after ${mib(ballast.bytes)}; the full-disk behaviour was not exercised`,
  };
}

function healthCheck(health: Observation[]): ProbeCheck {
  const bad = health.filter((o) => !isAnswer(o) || (o.status !== 200 && o.status !== 503));
  return {
    name: 'health answered while full',
    passed: health.length > 0 && bad.length === 0,
    detail: health.length === 0 ? 'no /health request was made during the fault' : `GET /health: ${tally(health)}`,
  };
}

function readsCheck(reads: Observation[]): ProbeCheck {
  const ok = reads.filter((o) => isAnswer(o) && o.status === 200).length;
  return {
    name: 'reads answered while full',
    passed: reads.length > 0 && ok === reads.length,
    detail: reads.length === 0 ? 'no admin read was made during the fault' : `GET /api/admin/keys: ${tally(reads)}`,
  };
}

function writesCheck(checks: Observation[], full: boolean): ProbeCheck {
  const refused = checks.filter((o) => isAnswer(o) && o.status !== 200 && o.status !== 429);
  const proper = refused.filter((o) => isAnswer(o) && o.status === 503 && o.retryAfter !== undefined && /^\d+$/.test(o.retryAfter.trim()));
  const failures = checks.filter((o) => !isAnswer(o)).length;
  // No refusal at all is not a failure: every 200 is checked against the usage log, and a 200
  // whose row is stored is a correct answer. The detail says the refusal was not seen.
  const passed = proper.length === refused.length && failures === 0;
  const why =
    proper.length < refused.length
      ? '; a refusal other than 503 with Retry-After'
      : failures > 0
        ? '; some requests got no answer'
        : full && proper.length === 0
          ? '; no decision was refused (the server still found room for its log)'
          : '';
  return { name: 'writes refused with 503 + Retry-After while full', passed, detail: `POST /v1/check: ${tally(checks)}${why}` };
}

async function ownRecordsCheck(ctx: ProbeContext, keyId: string, acknowledged: Array<{ id: string; t: number }>, since: number): Promise<ProbeCheck> {
  const name = 'decisions acknowledged while full are in the usage log';
  try {
    const result = await checkAcknowledgedRecords(ctx.cleanupClient, { decisions: acknowledged, since: new Date(since), until: new Date(), keyIds: [keyId] });
    if (result.status === 'not_measured') return { name, passed: true, detail: `not measured: ${result.reason}` };
    return {
      name,
      passed: result.lost === 0,
      detail: `${result.acknowledged} acknowledged with a 200 while full, ${result.lost} missing from the log${result.lost > 0 ? ` (${result.lost_ids.join(', ')})` : ''}`,
    };
  } catch (err) {
    return { name, passed: false, detail: `the usage log could not be read: ${messageOf(err)}` };
  }
}

function processCheck(target: ChaosTarget, pidBefore: number | undefined): ProbeCheck {
  const server = target.server;
  if (!server || pidBefore === undefined) return { name: 'server process survived', passed: true, detail: 'not measured: govctl does not manage the server process' };
  const survived = server.running && server.pid === pidBefore;
  return {
    name: 'server process survived',
    passed: survived,
    detail: survived ? `pid ${pidBefore} ran throughout` : `pid ${pidBefore} exited during the probe${server.running ? ` (now pid ${server.pid})` : ''}`,
  };
}

/** PRAGMA integrity_check through a read-only connection of our own, beside the running server's. */
export function integrityCheck(dataDir: string): ProbeCheck {
  const name = 'database integrity';
  const path = join(dataDir, DATABASE_FILE);
  if (!existsSync(path)) return { name, passed: true, detail: `not measured: no ${DATABASE_FILE} in the data directory` };
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    const result = rows.map((r) => r.integrity_check);
    const ok = result.length === 1 && result[0] === 'ok';
    return { name, passed: ok, detail: ok ? 'PRAGMA integrity_check: ok' : `PRAGMA integrity_check: ${result.slice(0, 5).join('; ')}` };
  } catch (err) {
    return { name, passed: false, detail: `the database could not be checked: ${messageOf(err)}` };
  } finally {
    db?.close();
  }
}

function mib(bytes: number): string {
  return `${Math.round((bytes / MIB) * 10) / 10} MiB`;
}
