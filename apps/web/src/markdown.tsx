/**
 * A message's text as Markdown (markdown-render.ts: GFM, sanitised, code highlighted). The renderer
 * and its libraries come as a separate chunk, requested as soon as this module loads; until it is
 * there (usually before the first messages are), a message shows as plain text.
 */
import { memo, useLayoutEffect, useMemo, useRef, useSyncExternalStore } from 'react';

type Renderer = typeof import('./markdown-render');
let renderer: Renderer | undefined;
const listeners = new Set<() => void>();
/** The renderer's chunk, loading. */
export const markdownReady: Promise<Renderer | undefined> = import('./markdown-render').then(
  (module) => {
    renderer = module;
    for (const listener of listeners) listener();
    return module;
  },
  // (A new version deployed under the open page: its chunk is gone. The text stays plain.)
  () => undefined,
);

function useRenderer(): Renderer | undefined {
  return useSyncExternalStore(
    (onChange) => {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
    () => renderer,
  );
}

/**
 * Renders a message's text as Markdown (the words of `q` marked); re-renders only when they change.
 * `tabbable: false` takes its links out of the Tab order (a list with roving focus).
 */
export const Markdown = memo(function Markdown({
  content,
  q,
  className,
  tabbable = true,
}: {
  content: string;
  q?: string;
  className?: string;
  tabbable?: boolean;
}) {
  const markdown = useRenderer();
  const html = useMemo(() => markdown?.renderMarkdown(content, q), [markdown, content, q]);
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    for (const link of ref.current?.querySelectorAll('a') ?? []) link.tabIndex = tabbable ? 0 : -1;
  }, [html, tabbable]);
  const classes = ['markdown', html === undefined && 'plain', className].filter(Boolean).join(' ');
  // Until the renderer is there: the text as it is (React escapes it).
  if (html === undefined)
    return (
      <div className={classes}>
        <p>{content}</p>
      </div>
    );
  return <div ref={ref} className={classes} dangerouslySetInnerHTML={{ __html: html }} />;
});
