import { errorStatus } from '@mnemo/react';
import { type Query, useQueryClient } from '@tanstack/react-query';
import { useState, useSyncExternalStore } from 'react';
import { isUnreachable } from './ui';

export type Problem = 'unauthorized' | 'unreachable' | undefined;

/** A failed query that something on screen is waiting for (not one left in the cache by a page no longer shown). */
const failedAndShown = (query: Query) => query.state.status === 'error' && query.getObserversCount() > 0;

/**
 * What stops the whole UI, read from the queries on screen: the server refused the request for want of
 * a (valid) API key, or did not answer at all.
 */
export function useQueryProblem(): Problem {
  const cache = useQueryClient().getQueryCache();
  return useSyncExternalStore(
    (onChange) => cache.subscribe(onChange),
    () => {
      const errors = cache.findAll({ predicate: failedAndShown }).map((query) => query.state.error);
      if (errors.some((error) => errorStatus(error) === 401)) return 'unauthorized';
      if (errors.some(isUnreachable)) return 'unreachable';
      return undefined;
    },
  );
}

/** Says why nothing loads, above every page: no API key (the form in the header is open), or no server (with Retry). */
export function ProblemBanner({ hasKey }: { hasKey: boolean }) {
  const problem = useQueryProblem();
  const client = useQueryClient();
  const [retrying, setRetrying] = useState(false);
  if (problem === 'unauthorized')
    return (
      <section className="banner" aria-label="Sign-in needed">
        <p id="problem-text" className="error" role="alert">
          {hasKey
            ? 'The server refused this API key (HTTP 401): enter a valid one in “API key” above.'
            : 'This Mnemo server needs an API key (it answered HTTP 401): enter it in “API key” above.'}
        </p>
      </section>
    );
  if (problem === 'unreachable')
    return (
      <section className="banner" aria-label="Connection problem">
        <div className="error" role="alert">
          <strong>Mnemo is not reachable</strong> at {window.location.origin}. Check that the server is running and the network is up.
          <button
            type="button"
            disabled={retrying}
            onClick={() => {
              setRetrying(true);
              // Re-runs every failed query on screen; the banner goes once they succeed.
              void client.refetchQueries({ predicate: failedAndShown }).finally(() => setRetrying(false));
            }}
          >
            {retrying ? 'Retrying…' : 'Retry'}
          </button>
        </div>
      </section>
    );
  return null;
}
