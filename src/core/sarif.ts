import { govctlVersion } from './version.js';
import type { Finding, Severity } from './findings.js';

/** SARIF 2.1.0, as GitHub code scanning reads it: stable rule ids, partial fingerprints. */
export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: SarifRun[];
}

interface SarifRun {
  tool: { driver: { name: string; version: string; informationUri: string; rules: SarifRule[] } };
  originalUriBaseIds?: Record<string, { uri: string }>;
  results: SarifResult[];
}

interface SarifRule {
  id: string;
  name: string;
  shortDescription: { text: string };
  help: { text: string };
  defaultConfiguration: { level: SarifLevel };
  properties: { tags: string[]; 'security-severity': string; precision: string };
}

type SarifLevel = 'error' | 'warning' | 'note';

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: SarifLevel;
  message: { text: string };
  locations: Array<{
    physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region?: { startLine: number; startColumn: number } };
  }>;
  partialFingerprints: Record<string, string>;
  properties?: Record<string, unknown>;
}

const LEVEL: Record<Severity, SarifLevel> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0' };

/** camelCase-ish display name from a rule id: "aws-access-key-id" -> "AwsAccessKeyId". */
function ruleName(id: string): string {
  return id.replace(/(^|[-_.])([a-z0-9])/gi, (_m, _sep, c: string) => c.toUpperCase());
}

function encodeUri(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export function toSarif(findings: Finding[], options: { toolName?: string; srcRoot?: string } = {}): SarifLog {
  const rules: SarifRule[] = [];
  const index = new Map<string, number>();
  for (const f of findings) {
    if (index.has(f.rule)) continue;
    index.set(f.rule, rules.length);
    rules.push({
      id: f.rule,
      name: ruleName(f.rule),
      shortDescription: { text: f.title },
      help: { text: f.remediation },
      defaultConfiguration: { level: LEVEL[f.severity] },
      properties: {
        tags: ['security', f.category, ...(f.cwe ? [`external/cwe/${f.cwe.toLowerCase()}`] : [])],
        'security-severity': SECURITY_SEVERITY[f.severity],
        precision: 'high',
      },
    });
  }
  const results: SarifResult[] = findings.map((f) => {
    const location =
      'file' in f.location
        ? {
            physicalLocation: {
              artifactLocation: { uri: encodeUri(f.location.file), uriBaseId: '%SRCROOT%' },
              region: { startLine: f.location.line, startColumn: f.location.column },
            },
          }
        : { physicalLocation: { artifactLocation: { uri: f.location.url } } };
    const commit = 'file' in f.location ? f.location.commit : undefined;
    return {
      ruleId: f.rule,
      ruleIndex: index.get(f.rule)!,
      level: LEVEL[f.severity],
      message: { text: `${f.title}: ${f.evidence}${commit ? ` (added in commit ${commit.slice(0, 12)})` : ''}` },
      locations: [location],
      partialFingerprints: { 'govctl/v1': f.fingerprint },
      ...(commit ? { properties: { commit } } : {}),
    };
  });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: options.toolName ?? 'govctl',
            version: govctlVersion(),
            informationUri: 'https://www.npmjs.com/package/govctl',
            rules,
          },
        },
        ...(options.srcRoot ? { originalUriBaseIds: { '%SRCROOT%': { uri: options.srcRoot.endsWith('/') ? options.srcRoot : `${options.srcRoot}/` } } } : {}),
        results,
      },
    ],
  };
}
