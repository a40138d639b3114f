/** Test options every project shares (projects do not inherit the root config's `test` options). */
export const sharedTestOptions = {
  restoreMocks: true,
  testTimeout: 30_000,
  hookTimeout: 180_000,
};
