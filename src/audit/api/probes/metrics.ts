import { headerOf } from '../requester.js';
import { addFinding, outcome, settle, type ProbeRun } from '../run.js';

/** Prometheus text 0.0.4 or OpenMetrics: what a scraper reads without a custom exporter. */
const PROMETHEUS = /^\s*(text\/plain|application\/openmetrics-text)\b/i;
const VERSIONED = /version\s*=\s*0\.0\.4|openmetrics/i;

/** Probe 11: GET /metrics is Prometheus text, not JSON (nor a JSON-quoted string). */
export async function probeMetrics(run: ProbeRun): Promise<void> {
  const id = 'metrics-prometheus-text';
  const title = '/metrics is Prometheus text';
  run.progress(title);
  const before = run.findings.length;
  const e = await run.req.send({ method: 'GET', path: '/metrics', headers: { accept: 'text/plain;version=0.0.4, */*;q=0.5' } });
  if (e.status === undefined || e.status !== 200) {
    return outcome(run, id, title, 'skipped', e.status === undefined ? `no answer: ${e.error}` : `GET /metrics answered ${e.status}`);
  }
  const type = headerOf(e, 'content-type') ?? '';
  const quoted = e.text.trimStart().startsWith('"');
  const jsonType = /\bjson\b/i.test(type);
  if (quoted || jsonType || !PROMETHEUS.test(type)) {
    const got = quoted ? 'a JSON-quoted string' : jsonType ? 'JSON' : `content type "${type || 'absent'}"`;
    addFinding(run, {
      rule: 'api-metrics-not-prometheus',
      severity: 'low',
      title: 'Metrics not in Prometheus text format',
      at: e,
      lead: `GET /metrics answered ${got}`,
      show: { show: ['content-type'] },
      remediation: 'Serve /metrics with the Prometheus client library\'s text exposition (Content-Type: text/plain; version=0.0.4), not wrapped in JSON.',
    });
  }
  settle(run, id, title, before, !VERSIONED.test(type) && run.findings.length === before ? `text/plain without version=0.0.4 ("${type}")` : undefined);
}
