/**
 * Small HTML pages the middleware renders itself (errors, logout confirmation). Every dynamic value
 * is escaped; pages load nothing external.
 *
 * @module
 */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

/** A complete page around already-escaped body HTML. */
export function page(title: string, bodyHtml: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}
code{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px}.muted{color:#666;font-size:.9rem}
button{font:inherit;padding:.4rem 1rem}</style></head>
<body>${bodyHtml}</body></html>`;
}
