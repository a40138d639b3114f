/**
 * `@mnemo/client/tokens`: minting user tokens in an app's backend (Node, Deno, Bun, edge), for browsers that
 * talk to Mnemo directly (README, "Tokens for browsers"). A subpath of its own so that browser bundles, which
 * only need `getToken`, never pull jose in. The claim rules are @mnemo/core's, shared with the server's CLI.
 */
export {
  createUserToken,
  DEFAULT_USER_TOKEN_TTL,
  TENANT_PATTERN,
  type TokenLifetime,
  type UserTokenOptions,
} from '@mnemo/core/auth-tokens';
