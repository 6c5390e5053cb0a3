/** Component property names govctl writes in, and reads back from, CycloneDX SBOMs. */

/** A lock/manifest file naming the component (one property per file). */
export const MANIFEST_PROPERTY = 'govctl:manifest';
/** "SHA-256:<hex>": a hash of one of the component's files, when it has several of one algorithm (Python wheels/sdists). */
export const FILE_HASH_PROPERTY = 'govctl:file-hash';
/** cyclonedx-npm's marker of an npm package installed only for development. */
export const NPM_DEVELOPMENT_PROPERTY = 'cdx:npm:package:development';
/** cyclonedx-npm's record of where an npm package is installed (one property per path). */
export const NPM_PATH_PROPERTY = 'cdx:npm:package:path';
