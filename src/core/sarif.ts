import { govctlVersion } from './version.js';
import { locationKind, type ConfigLocation, type FileLocation, type Finding, type HttpLocation, type PackageLocation, type Severity } from './findings.js';

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

interface SarifPhysicalLocation {
  artifactLocation: { uri: string; uriBaseId?: string };
  region?: { startLine: number; startColumn?: number };
}

interface SarifLogicalLocation {
  name?: string;
  fullyQualifiedName: string;
  kind: string;
}

/** A physical location only where there is a real file; packages, keys and HTTP exchanges are logical. */
interface SarifLocation {
  physicalLocation?: SarifPhysicalLocation;
  logicalLocations?: SarifLogicalLocation[];
}

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: SarifLevel;
  message: { text: string };
  locations: SarifLocation[];
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

function fileUri(path: string): { uri: string; uriBaseId?: string } {
  // Absolute URLs (a manifest fetched from somewhere) stay as they are; relative paths are under %SRCROOT%.
  return /^[a-z][a-z0-9+.-]*:/i.test(path) ? { uri: path } : { uri: encodeUri(path), uriBaseId: '%SRCROOT%' };
}

/** The name of a package URL without type, namespace or version: "pkg:npm/%40a/b@1.0.0" -> "b". */
function purlName(purl: string): string {
  const path = purl.replace(/^pkg:[^/]+\//, '').replace(/[?#].*$/, '');
  const name = path.split('/').pop() ?? path;
  const at = name.lastIndexOf('@');
  return decodeURIComponent(at > 0 ? name.slice(0, at) : name);
}

function sarifLocation(f: Finding): SarifLocation {
  switch (locationKind(f.location)) {
    case 'package': {
      const l = f.location as PackageLocation;
      return {
        ...(l.manifest ? { physicalLocation: { artifactLocation: fileUri(l.manifest) } } : {}),
        logicalLocations: [{ name: purlName(l.purl), fullyQualifiedName: l.purl, kind: 'module' }],
      };
    }
    case 'config': {
      const l = f.location as ConfigLocation;
      return {
        physicalLocation: { artifactLocation: fileUri(l.file), ...(l.line !== undefined ? { region: { startLine: l.line } } : {}) },
        logicalLocations: [{ name: l.key_path.split('.').pop() ?? l.key_path, fullyQualifiedName: l.key_path, kind: 'property' }],
      };
    }
    case 'http': {
      const l = f.location as HttpLocation;
      return { logicalLocations: [{ name: l.url, fullyQualifiedName: `${l.method.toUpperCase()} ${l.url}`, kind: 'resource' }] };
    }
    default: {
      const l = f.location as FileLocation;
      return { physicalLocation: { artifactLocation: fileUri(l.file), region: { startLine: l.line, startColumn: l.column } } };
    }
  }
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
    const location = sarifLocation(f);
    const commit = locationKind(f.location) === 'file' ? (f.location as FileLocation).commit : undefined;
    return {
      ruleId: f.rule,
      ruleIndex: index.get(f.rule)!,
      level: LEVEL[f.severity],
      message: { text: `${f.title}: ${f.evidence}${commit ? ` (added in commit ${commit.slice(0, 12)})` : ''}` },
      locations: [location],
      partialFingerprints: { 'govctl/v2': f.fingerprint },
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
