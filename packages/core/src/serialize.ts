/**
 * Per-key write serialization within one process.
 *
 * Every write is also a single atomic MongoDB operation (`$inc`, `$set` on dotted keys), which
 * is enough on MongoDB for any number of server instances. FerretDB v1 (the bundled local
 * database) applies an update as read-modify-write of the whole document without a lock
 * (internal/handler/msg_update.go: Query, then UpdateAll by _id), so concurrent updates of one
 * document can lose each other. Queueing the writes of one session (its document and its
 * messages) or one user makes a single instance correct on FerretDB too; several instances need
 * MongoDB (README, "At scale").
 */
export function createSerializer() {
  const tails = new Map<string, Promise<unknown>>();
  return function serialize<T>(key: string, write: () => Promise<T>): Promise<T> {
    const previous = tails.get(key) ?? Promise.resolve();
    const result = previous.then(write, write);
    const tail = result.catch(() => {});
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return result;
  };
}

export type Serialize = ReturnType<typeof createSerializer>;
export const sessionKey = (sessionId: string) => `session:${sessionId}`;
export const userKey = (userId: string) => `user:${userId}`;
