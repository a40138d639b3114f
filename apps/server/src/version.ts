/**
 * The version Mnemo reports as `X-Zep-Version` on every response. Zep's SDKs take the text before
 * the first `-` as the server version and warn unless it is semver ≥ 0.21.0 (zep-python also wants
 * a `-` in it); Mnemo implements the API of Zep v0.27.2.
 */
export const ZEP_API_VERSION = '0.27.2';
export const ZEP_VERSION_HEADER = `${ZEP_API_VERSION}-mnemo (mnemo)`;
