// Escaping for the HTML pages the service renders (the status page, the load-test report).

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Safe in text and in quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);
}

export interface HtmlPage {
  title: string;
  /** Page-specific <meta> elements, already HTML. */
  meta: string;
  style: string;
  body: string;
}

/** A whole HTML5 document: charset, viewport, the page's own meta, an escaped title and inline styles. */
export function htmlPage({ title, meta, style, body }: HtmlPage): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${meta}
<title>${escapeHtml(title)}</title>
<style>${style}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
