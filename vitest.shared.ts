/** Test options every project shares (projects do not inherit the root config's `test` options). */
export const sharedTestOptions = {
  restoreMocks: true,
  testTimeout: 30_000,
  hookTimeout: 180_000,
  // expect.poll waits for something to happen; its default, 1 s, made it a speed test on a busy machine.
  expect: { poll: { timeout: 10_000 } },
};
