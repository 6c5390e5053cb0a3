import { copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { withFileSystemErrors } from '../../core/fs-errors.js';
import type { StepDef } from './types.js';

/**
 * The steps release-check measures itself, in-process: the target's observability (G6), the
 * bootstrap of the project (G7), and the coverage summary of the test run copied into the release
 * (G1). Their figures go into release.json (ctx.data).
 */

const observability: StepDef = {
  name: 'observability',
  title: 'observability: /metrics series and health endpoints',
  async run(ctx) {
    const o = ctx.options;
    const { measureObservability } = await import('../observability.js');
    const result = await measureObservability({
      url: o.target.url,
      timeoutMs: o.client.timeoutMs,
      ...(o.client.caCert !== undefined ? { caCert: o.client.caCert } : {}),
      insecure: o.client.insecure,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    ctx.data.observability = result;
    if (!result || result.status === 'not_measured') return { status: 'error', reason: `not measured: ${result?.reason ?? 'no result'}` };
    const bad = result.health.filter((h) => !h.ok);
    const problems = [
      ...(result.series_missing.length > 0 ? [`${result.series_missing.length} required series missing (${result.series_missing.join(', ')})`] : []),
      ...(bad.length > 0 ? [`health endpoints failing: ${bad.map((h) => `${h.path} ${h.status ?? h.error ?? 'no answer'}`).join(', ')}`] : []),
    ];
    return problems.length > 0 ? { status: 'failed', reason: problems.join('; ') } : { status: 'passed' };
  },
};

const bootstrap: StepDef = {
  name: 'bootstrap',
  title: 'bootstrap: fresh install and first run',
  async run(ctx) {
    const o = ctx.options;
    if (o.skipBootstrap) {
      // Recorded, not measured: G7 then fails as "not measured", never passes on a guess.
      ctx.data.bootstrap_reason = 'not measured: --skip-bootstrap';
      return { status: 'skipped', reason: 'skipped: --skip-bootstrap (G7 reads no bootstrap time)' };
    }
    const { measureBootstrap } = await import('../bootstrap.js');
    // In the temporary directory (measureBootstrap makes its own directory there and removes it):
    // an installed node_modules is not evidence to hash into the release.
    const result = await measureBootstrap({
      projectDir: o.cwd,
      workDir: tmpdir(),
      env: o.child.env,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(o.bootstrapTimeoutMs !== undefined ? { timeoutMs: o.bootstrapTimeoutMs } : {}),
      onEvent: (event) => ctx.emit({ type: 'info', message: `bootstrap: ${event.message}` }),
    });
    ctx.data.bootstrap_s = result.seconds;
    ctx.data.bootstrap_steps = result.steps.map((s) => ({ name: s.name, seconds: s.seconds, ok: s.ok }));
    if (result.reason !== undefined) ctx.data.bootstrap_reason = result.reason;
    if (result.seconds === null) return { status: ctx.signal?.aborted ? 'error' : 'failed', reason: `the bootstrap did not succeed: ${result.reason ?? 'no reason given'}` };
    return { status: 'passed', reason: `${result.seconds.toFixed(1)} s` };
  },
};

const coverage: StepDef = {
  name: 'coverage',
  title: 'coverage summary of the test run',
  async run(ctx) {
    const c = ctx.options.coverage;
    if (c === undefined) {
      const reason = 'no coverage summary: pass --coverage FILE, or run the tests with coverage first (coverage/coverage-summary.json)';
      ctx.data.coverage = { status: 'not_measured', reason };
      return { status: 'skipped', reason: `skipped: ${reason}` };
    }
    // The gate reader knows coverage files by these names; anything else is copied as a summary.
    const name = basename(c.file) === 'lcov.info' ? 'lcov.info' : 'coverage-summary.json';
    const dir = join(ctx.releaseDir, 'coverage');
    const dest = join(dir, name);
    await withFileSystemErrors('create', dir, () => mkdir(dir, { recursive: true }));
    await withFileSystemErrors('copy the coverage summary to', dest, () => copyFile(c.file, dest));
    const source = relative(ctx.options.cwd, c.file) || c.file;
    ctx.data.coverage = { source: source.startsWith('..') ? c.file : source, file: `coverage/${name}` };
    return { status: 'passed', reason: `copied from ${ctx.data.coverage.source}` };
  },
};

export const MEASURE_STEPS: readonly StepDef[] = [observability, bootstrap, coverage];
