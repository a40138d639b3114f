import { readFileSync } from 'node:fs';

/** @mnemo/server's version: its package.json, beside src/ in a checkout and beside dist/ when installed. */
export const MNEMO_VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

/**
 * The version Mnemo reports as `X-Zep-Version` on every response. Zep's SDKs take the text before
 * the first `-` as the server version and warn unless it is semver ≥ 0.21.0 (zep-python also wants
 * a `-` in it); Mnemo implements the API of Zep v0.27.2.
 */
export const ZEP_API_VERSION = '0.27.2';
export const ZEP_VERSION_HEADER = `${ZEP_API_VERSION}-mnemo (mnemo)`;
