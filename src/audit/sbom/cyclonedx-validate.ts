import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonPath } from '../../core/schema.js';

/**
 * The CycloneDX JSON validator of @cyclonedx/cyclonedx-library, fast to start.
 *
 * The library's Validation.JsonStrictValidator compiles the schema with ajv on first use (about
 * 350 ms per process: more than the rest of `audit --sbom`). scripts/build-cyclonedx-validators.mjs
 * compiles the library's own schema files, with the library's ajv options and formats, into ajv
 * "standalone" modules at build time (dist/audit/sbom/cyclonedx-validators/bom-<spec>.cjs; loading
 * one costs ~40 ms). They are used when they were built from the installed library version; else
 * (running from src/, another library version, another spec) the library's validator runs itself.
 */

export type CycloneDxSpec = '1.2' | '1.3' | '1.4' | '1.5' | '1.6' | '1.7';

export interface BomValidator {
  /** "precompiled": the build-time module; "library": Validation.JsonStrictValidator. */
  readonly kind: 'precompiled' | 'library';
  /** Validates serialised CycloneDX JSON: undefined when valid, else the errors in one line. */
  validate(json: string): Promise<string | undefined>;
}

export interface ValidatorOptions {
  /**
   * Where the precompiled modules are: default beside this module; null: never use them (the
   * library's validator compiles the schema).
   */
  precompiledDir?: string | null;
}

interface AjvError {
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

interface PrecompiledModule {
  (data: unknown): boolean;
  errors?: AjvError[] | null;
  libraryVersion?: string;
}

const require = createRequire(import.meta.url);
const libraryValidators = new Map<CycloneDxSpec, Promise<BomValidator>>();

/** The precompiled validator when there is a usable one, else the library's (one per spec and process). */
export async function cyclonedxValidator(spec: CycloneDxSpec, options: ValidatorOptions = {}): Promise<BomValidator> {
  const dir = options.precompiledDir === undefined ? fileURLToPath(new URL('./cyclonedx-validators', import.meta.url)) : options.precompiledDir;
  const precompiled = dir === null ? undefined : loadPrecompiled(spec, dir);
  if (precompiled) {
    return {
      kind: 'precompiled',
      // Like the library's validator: parse the serialised text, validate the result.
      validate: async (json) => (precompiled(JSON.parse(json)) ? undefined : describeErrors(precompiled.errors ?? [])),
    };
  }
  let validator = libraryValidators.get(spec);
  if (!validator) {
    validator = libraryValidator(spec);
    // A failed load (a missing optional dependency of the library) is not kept: the next call retries.
    validator.catch(() => libraryValidators.delete(spec));
    libraryValidators.set(spec, validator);
  }
  return validator;
}

async function libraryValidator(spec: CycloneDxSpec): Promise<BomValidator> {
  const { JsonStrictValidator } = await import('@cyclonedx/cyclonedx-library/Validation');
  // It compiles the schema on its first validate and keeps the result.
  const library = new JsonStrictValidator(spec as import('@cyclonedx/cyclonedx-library/Spec').Version);
  return {
    kind: 'library',
    validate: async (json) => {
      const errors = await library.validate(json);
      return errors === null ? undefined : describeErrors(errors as AjvError[]);
    },
  };
}

/** require() caches the module: loading it again is free. */
function loadPrecompiled(spec: CycloneDxSpec, dir: string): PrecompiledModule | undefined {
  const file = join(dir, `bom-${spec}.cjs`);
  if (!existsSync(file)) return undefined;
  const mod = require(file) as PrecompiledModule;
  const installed = (require('@cyclonedx/cyclonedx-library/package.json') as { version: string }).version;
  // Built from another library version: its schema may differ from the library's; do not use it.
  return mod.libraryVersion === installed ? mod : undefined;
}

/** "$.components[3].licenses[0].license.id: must be equal to one of the allowed values; ..." */
export function describeErrors(errors: readonly AjvError[]): string {
  const shown = errors.slice(0, 5).map((e) => `${jsonPath(e.instancePath)}: ${e.message ?? 'is invalid'}${detail(e)}`);
  if (errors.length > shown.length) shown.push(`and ${errors.length - shown.length} more`);
  return shown.join('; ');
}

function detail(error: AjvError): string {
  const p = error.params ?? {};
  if (typeof p['additionalProperty'] === 'string') return ` ("${p['additionalProperty']}")`;
  if (typeof p['missingProperty'] === 'string') return '';
  if (Array.isArray(p['allowedValues']) && p['allowedValues'].length <= 10) return ` (${p['allowedValues'].map((v) => JSON.stringify(v)).join(', ')})`;
  return '';
}

