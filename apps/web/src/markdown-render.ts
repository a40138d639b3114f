/**
 * Message text as GitHub-flavoured Markdown: tables, lists and task lists, links, strikethrough,
 * code spans and fenced code with syntax highlighting (a few common languages).
 *
 * Safe by two independent layers: the Markdown renderer never emits the message's own HTML (raw
 * HTML is shown as text) and only lets http(s), mailto and relative links through; then DOMPurify
 * keeps a short allow-list of tags and attributes on what remains. Images are shown as links (no
 * request leaves the page for what a message names). Links open in a new tab, `rel="noopener
 * noreferrer"`.
 *
 * Rendering is memoised by text (an LRU of HTML strings), so a virtualised list that mounts and
 * unmounts rows while scrolling parses each message once. This module is loaded on its own (a
 * separate chunk, see markdown.tsx): the app's first bundle stays small.
 */
import { matchedWords } from '@mnemo/core/terms';
import DOMPurify from 'dompurify';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import { Marked, type Tokens } from 'marked';

for (const [name, language] of Object.entries({ bash, javascript, json, python, sql, typescript, xml, yaml })) {
  hljs.registerLanguage(name, language);
}
// Common fence names for them (```js, ```sh, ```html, …).
hljs.registerAliases(['sh', 'shell', 'zsh', 'console'], { languageName: 'bash' });
hljs.registerAliases(['html', 'svg'], { languageName: 'xml' });
hljs.registerAliases(['yml'], { languageName: 'yaml' });
hljs.registerAliases(['py'], { languageName: 'python' });

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A link target worth following: http(s), mailto, or relative to this page. Anything else (javascript:, data:, …) is not. */
export function safeHref(href: string): string | undefined {
  const trimmed = href.trim();
  if (/^(https?:|mailto:)/i.test(trimmed)) return trimmed;
  // No scheme at all ("#x", "/path", "page.html"); a ":" before any "/", "?" or "#" would be one.
  if (!/^[^/?#]*:/.test(trimmed) && !/[\u0000-\u001f]/.test(trimmed)) return trimmed;
  return undefined;
}

const marked = new Marked({
  gfm: true,
  breaks: true, // a chat message's line breaks are meant (Shift+Enter)
  renderer: {
    // The message's own HTML is text, never markup.
    html: ({ text, block }: Tokens.HTML | Tokens.Tag) => (block ? `<p class="raw-html">${escapeHtml(text.trim())}</p>` : escapeHtml(text)),
    code({ text, lang }: Tokens.Code) {
      const language = lang?.trim().split(/\s+/)[0]?.toLowerCase();
      const known = language && hljs.getLanguage(language) ? language : undefined;
      const body = known ? hljs.highlight(text, { language: known, ignoreIllegals: true }).value : escapeHtml(text);
      const label = known ?? language;
      return `<pre${label ? ` data-language="${escapeHtml(label)}"` : ''}><code class="hljs">${body}</code></pre>`;
    },
    link({ href, title, tokens }: Tokens.Link) {
      const inner = this.parser.parseInline(tokens);
      const target = safeHref(href);
      if (!target) return inner;
      return `<a href="${escapeHtml(target)}"${title ? ` title="${escapeHtml(title)}"` : ''}>${inner}</a>`;
    },
    image({ href, title, text }: Tokens.Image) {
      const target = safeHref(href);
      const label = escapeHtml(text || title || 'image');
      return target ? `<a href="${escapeHtml(target)}" class="image-link">Image: ${label}</a>` : label;
    },
    checkbox: ({ checked }: Tokens.Checkbox) =>
      `<input type="checkbox" disabled${checked ? ' checked' : ''} aria-label="${checked ? 'Done' : 'Not done'}"> `,
  },
});

const ALLOWED_TAGS = [
  ...['p', 'br', 'hr', 'strong', 'em', 'del', 's', 'code', 'pre', 'span', 'a', 'blockquote', 'mark'],
  ...['ul', 'ol', 'li', 'input', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6'],
];
const ALLOWED_ATTR = ['href', 'title', 'class', 'type', 'checked', 'disabled', 'aria-label', 'align', 'start', 'data-language'];

let hooked = false;
function purify(html: string, fragment: true): DocumentFragment;
function purify(html: string, fragment?: false): string;
function purify(html: string, fragment = false): string | DocumentFragment {
  if (!hooked) {
    hooked = true;
    DOMPurify.addHook('afterSanitizeAttributes', (node) => {
      if (node.tagName === 'A') {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      }
    });
  }
  const config = { ALLOWED_TAGS, ALLOWED_ATTR, ALLOW_DATA_ATTR: false };
  return fragment ? DOMPurify.sanitize(html, { ...config, RETURN_DOM_FRAGMENT: true }) : DOMPurify.sanitize(html, config);
}

/** Wraps every word of the fragment's text that a search for `q` matches by (the server's rule) in `<mark>`. */
function markTerms(root: DocumentFragment, q: string): void {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const texts: Text[] = [];
  while (walker.nextNode()) texts.push(walker.currentNode as Text);
  for (const text of texts) {
    const ranges = matchedWords(text.data, q);
    if (ranges.length === 0) continue;
    const parts = document.createDocumentFragment();
    let at = 0;
    for (const [start, end] of ranges) {
      parts.append(text.data.slice(at, start));
      const mark = document.createElement('mark');
      mark.textContent = text.data.slice(start, end);
      parts.append(mark);
      at = end;
    }
    parts.append(text.data.slice(at));
    text.replaceWith(parts);
  }
}

const CACHE_SIZE = 1000;
const cache = new Map<string, string>();

/** The message's Markdown as sanitised HTML (the words a search for `q` matches, if any, in `<mark>`). */
export function renderMarkdown(content: string, q = ''): string {
  if (!q.trim()) {
    const cached = cache.get(content);
    if (cached !== undefined) {
      // Most recently used last: Map keeps insertion order.
      cache.delete(content);
      cache.set(content, cached);
      return cached;
    }
  }
  const html = marked.parse(content, { async: false }).trim();
  if (q.trim()) {
    const fragment = purify(html, true);
    markTerms(fragment, q);
    const holder = document.createElement('div');
    holder.append(fragment);
    return holder.innerHTML;
  }
  const clean = purify(html);
  cache.set(content, clean);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return clean;
}
