/**
 * `govctl gate init`: a starter gate file whose `$comment` fields explain each part. It is the
 * release set's shape with the features a team adjusts first shown once each: warning levels,
 * relative criteria against a baseline, per-path coverage overrides, key gates and weights.
 */

const STARTER = {
  $comment: [
    'A govctl gate file. Evaluate it with: govctl gate --gates <this file> --reports reports [--baseline baseline-reports].',
    'Each gate measures one or more objectives (a metric, a filter, criteria) from the newest matching report; every objective must pass for its gate to pass.',
    'Criteria: a list is AND ("pass": [">=75", "<=100"]); a list of lists is OR of ANDs ("pass": [["<800"], ["<=+10%"]]).',
    'Absolute: <800, <=0.2, ==0, !=0, >=75. Relative to the same metric in --baseline DIR: <=+10% (at most 10% above), <=+50 (at most 50 above), >=-5% (at most 5% below). A relative criterion without a baseline value does not hold.',
    'Levels: a value that misses "pass" but meets "warning" warns. Score: passed gates count their weight, warned ones half of it; the evaluation passes at total_score.pass, warns at total_score.warning. A failing "key" gate fails the evaluation whatever the score.',
    'A gate whose input does not exist fails as "not measured: <the command that measures it>". Units: percentages are 0..100, latency ms, recovery and bootstrap s.',
  ].join(' '),
  name: 'my-release',
  total_score: { pass: '90%', warning: '75%' },
  gates: [
    {
      $comment: 'coverage.lines_pct (also statements_pct, functions_pct, branches_pct) reads coverage-summary.json or lcov.info. An override judges files under its path by its own criteria and leaves them out of the overall figure.',
      id: 'G1',
      name: 'coverage',
      metric: 'coverage.lines_pct',
      pass: ['>=75'],
      warning: ['>=70'],
      overrides: [{ path: 'src/core/', pass: ['>=85'] }],
    },
    {
      $comment: 'load.p99_ms (also p50/p90/p95/p999/max_ms, error_rate_pct, throughput_rps, p99_drift_pct, throughput_drift_pct, records_lost) reads the newest load report of the profile; "endpoint" narrows it to one request of the scenario. Here: under 800 ms, or at most 10% slower than the baseline.',
      id: 'G2',
      name: 'latency',
      objectives: [
        { metric: 'load.p99_ms', profile: 'normal', pass: [['<800'], ['<=+10%']], warning: ['<1000'] },
        { metric: 'load.p99_ms', profile: 'burst', pass: ['<800'] },
      ],
    },
    {
      $comment: 'Error rate in percent of requests (429s are throttling, not errors).',
      id: 'G3',
      name: 'error rate',
      objectives: [
        { metric: 'load.error_rate_pct', profile: 'normal', pass: ['<1'] },
        { metric: 'load.error_rate_pct', profile: 'soak', pass: ['<0.2'] },
      ],
    },
    {
      $comment: 'chaos.recovery_s is the worst probe of the newest chaos run ("probe": "restart" for one probe); chaos.records_lost counts acknowledged decisions missing from the usage log.',
      id: 'G4',
      name: 'chaos recovery',
      key: true,
      objectives: [
        { metric: 'chaos.recovery_s', pass: ['<=60'] },
        { metric: 'chaos.records_lost', pass: ['==0'] },
      ],
    },
    {
      $comment: 'security.findings counts findings at or above "severity" in the newest report of each source; every source listed must have run. security.sbom_valid is 1 when the audit built an SBOM that is present beside its report and valid.',
      id: 'G5',
      name: 'security',
      key: true,
      weight: 2,
      objectives: [
        { metric: 'security.findings', severity: 'high', sources: ['scan:secrets', 'scan:patterns', 'audit:sbom', 'audit:vulns', 'audit:api', 'audit:config'], pass: ['==0'] },
        { metric: 'security.sbom_valid', pass: ['==1'] },
      ],
    },
    {
      $comment: 'Measured by govctl release-check and read from its release report.',
      id: 'G6',
      name: 'observability',
      objectives: [
        { metric: 'observability.series_missing', pass: ['==0'] },
        { metric: 'observability.health_failures', pass: ['==0'] },
      ],
    },
    { $comment: 'Seconds from a fresh install to the first successful run, measured by govctl release-check.', id: 'G7', name: 'bootstrap', metric: 'bootstrap.seconds', pass: ['<=600'] },
    {
      $comment: 'Measured live from the files (paths relative to the working directory; the first existing candidate counts). Non-trivial: min_bytes (300), min_prose_lines (5), min_headings (1), and for "heading" a matching section of min_section_lines (3). level "warn": a failure here is reported as a warning, never failing the evaluation by itself (level "error", the default, fails).',
      id: 'G8',
      name: 'documentation',
      level: 'warn',
      metric: 'docs.failing',
      docs: [
        { name: 'README quick start', path: 'README.md', heading: 'quick ?start|getting started' },
        { name: 'runbook', path: ['docs/runbook.md', 'RUNBOOK.md'] },
        { name: 'troubleshooting', path: ['docs/troubleshooting.md', 'TROUBLESHOOTING.md'], min_prose_lines: 10 },
      ],
      pass: ['==0'],
    },
  ],
};

/** The JSON text of a commented starter gate file. */
export function starterGateFile(): string {
  return `${JSON.stringify(STARTER, null, 2)}\n`;
}
