import { useSummary } from '@mnemo/react';
import { formatRelative, fullTime, useNow } from './time';

/**
 * The session's progressive summary, above the conversation (when the server makes summaries:
 * MNEMO_LLM_URL): when it was made and which messages it covers, its text in a disclosure that
 * starts open. Live: a new summary replaces it as soon as the server has made it. Nothing while
 * the session has none, or when it cannot be read.
 */
export function SummaryPanel({ sessionId }: { sessionId: string }) {
  const { data: summary } = useSummary(sessionId, { live: true });
  const now = useNow();
  if (!summary) return null;
  return (
    <details className="conversation-summary" open aria-label="Summary of the conversation">
      <summary>
        Summary{' '}
        <span className="muted small">
          · covers messages 1–{summary.recentSeq} · made{' '}
          <time dateTime={summary.createdAt.toISOString()} title={fullTime(summary.createdAt)}>
            {formatRelative(summary.createdAt, now)}
          </time>
        </span>
      </summary>
      <p>{summary.content}</p>
    </details>
  );
}
