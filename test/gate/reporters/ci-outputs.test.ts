import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeData, escapeProperty, gateAnnotations } from '../../../src/gate/reporters/annotations.js';
import { gateCodeQuality } from '../../../src/gate/reporters/codequality.js';
import { gateMarkdown } from '../../../src/gate/reporters/markdown.js';
import type { GateEvaluation } from '../../../src/gate/types.js';
import { removeDir, tempDir } from '../../fixtures/gate/reports.js';
import { fixtureEvaluation, GATE_FILE } from './evaluation.js';

describe('CI reporters: job summary Markdown, GitHub annotations, GitLab code quality', () => {
  let cwd: string;
  let evaluation: GateEvaluation;
  beforeAll(async () => {
    cwd = await tempDir();
    evaluation = await fixtureEvaluation(cwd);
  });
  afterAll(async () => {
    await removeDir(cwd);
  });

  it('Markdown: a GFM table of gate, value, criterion, result, one row per objective, then the result', () => {
    const md = gateMarkdown(evaluation, { cwd });
    const lines = md.split('\n');
    expect(lines[0]).toBe('### govctl gate: ci ❌ FAIL');
    const header = lines.indexOf('| gate | value | criterion | result | detail |');
    expect(header).toBeGreaterThan(0);
    expect(lines[header + 1]).toBe('|---|---|---|---|---|');
    const rows = lines.slice(header + 2, header + 6);
    // Every row has the header's five cells (pipes in text are escaped, so they do not add cells).
    for (const row of rows) expect(row.split(/(?<!\\)\|/).length - 2).toBe(5);
    expect(rows[0]).toMatch(/^\| G1 latency \| 500 ms \| `pass: <800` \| ✅ PASS \| p99 latency \(profile normal\): 500 ms, meets &lt;800 — reports\/run-\d+\/load\.json, 2026-01-10T10:00:00\.000Z \|$/);
    expect(rows[1]).toContain('| 900 ms | `pass: <800; warning: <1000` | ⚠️ WARN |');
    expect(rows[2]).toContain('| G3 chaos recovery (key) | not measured | `pass: <=60` | ❌ FAIL | not measured: govctl chaos (no chaos journal under reports) |');
    expect(rows[3]).toContain('| G4 security | 2 |');
    expect(md).toContain('**FAIL**: key gate G3 failed;');
    expect(md).toContain('1 passed, 1 warned, 2 failed (1 not measured) of 4; score ');
  });

  it('Markdown: text from reports cannot break the table or inject markup', () => {
    const hostile = structuredClone(evaluation);
    hostile.gates[0]!.objectives[0]!.reason = 'a | b\n<img src=x onerror=alert(1)>';
    const row = gateMarkdown(hostile, { cwd }).split('\n').find((l) => l.startsWith('| G1 '))!;
    expect(row).toContain('a \\| b &lt;img src=x onerror=alert(1)&gt;');
    expect(row.split(/(?<!\\)\|/).length - 2).toBe(5);
  });

  it('annotations: ::error for failed gates, ::warning for warned ones (::error under --strict), file annotations for findings', () => {
    const lines = gateAnnotations(evaluation);
    expect(lines.filter((l) => l.startsWith('::error title=govctl gate G'))).toHaveLength(2);
    expect(lines).toContain('::error title=govctl gate G3 chaos recovery%3A FAIL (key gate)::not measured: govctl chaos (no chaos journal under reports)');
    expect(lines.some((l) => l.startsWith('::warning title=govctl gate G2 burst latency%3A WARN::p99 latency (profile burst): 900 ms'))).toBe(true);
    // The finding in a file is annotated at its line; the HTTP one has no file to point at.
    expect(lines).toContain('::error file=src/file1.ts,line=1,col=1,title=aws-access-key-id (high%2C gate G4)::aws-access-key-id: AKIA…');
    expect(lines.some((l) => l.includes('title=admin-route-open'))).toBe(false);
    expect(lines.at(-1)).toMatch(/^::error title=govctl gate ci::fail: key gate G3 failed; score [\d.]+%25/);
    const strict = gateAnnotations(evaluation, { strict: true });
    expect(strict.some((l) => l.startsWith('::error title=govctl gate G2 burst latency%3A WARN::'))).toBe(true);
  });

  it('annotations: report text cannot end the command or start another', () => {
    expect(escapeData('50%\n::set-env name=X::1\r')).toBe('50%25%0A::set-env name=X::1%0D');
    expect(escapeProperty('a:b,c')).toBe('a%3Ab%2Cc');
    const hostile = structuredClone(evaluation);
    hostile.gates[3]!.objectives[0]!.reason = 'x\n::error::injected';
    for (const line of gateAnnotations(hostile)) expect(line.split('\n')).toHaveLength(1);
  });

  it('code quality: one issue per failed or warned gate at its line in the gate file, one per counted finding', () => {
    const gateFileText = `${JSON.stringify(GATE_FILE, null, 2)}\n`;
    const issues = gateCodeQuality(evaluation, { cwd, gateFileText });
    expect(issues).toHaveLength(3 + 2);
    for (const issue of issues) {
      expect(Object.keys(issue).sort()).toEqual(['categories', 'check_name', 'description', 'fingerprint', 'location', 'severity', 'type']);
      expect(['info', 'minor', 'major', 'critical', 'blocker']).toContain(issue.severity);
      expect(issue.location.path).not.toMatch(/^\//);
      expect(Number.isInteger(issue.location.lines.begin) && issue.location.lines.begin >= 1).toBe(true);
    }
    const [g2, g3, g4] = issues;
    const lineOf = (id: string) => gateFileText.split('\n').findIndex((l) => l.includes(`"id": "${id}"`)) + 1;
    expect(g2).toMatchObject({ check_name: 'govctl-gate/G2', severity: 'minor', location: { path: 'gates.json', lines: { begin: lineOf('G2') } }, categories: ['Performance'] });
    expect(g3).toMatchObject({ check_name: 'govctl-gate/G3', severity: 'blocker', description: 'G3 chaos recovery FAIL: not measured: govctl chaos (no chaos journal under reports)' });
    expect(g4).toMatchObject({ check_name: 'govctl-gate/G4', severity: 'major', categories: ['Security'] });
    expect(new Set(issues.map((i) => i.fingerprint)).size).toBe(issues.length);
    const aws = issues.find((i) => i.check_name === 'aws-access-key-id')!;
    expect(aws).toMatchObject({ severity: 'critical', fingerprint: 'aws-access-key-id-secret-1', location: { path: 'src/file1.ts', lines: { begin: 1 } } });
    // An HTTP finding has no file: it points at the report that recorded it.
    expect(issues.find((i) => i.check_name === 'admin-route-open')!.location.path).toMatch(/^reports\/run-\d+\/scan\.json$/);
    // Stable across runs: the same evaluation gives the same fingerprints.
    expect(gateCodeQuality(evaluation, { cwd }).map((i) => i.fingerprint)).toEqual(issues.map((i) => i.fingerprint));
    expect(join(cwd, 'gates.json')).toBe(evaluation.gates_file.source);
  });
});
