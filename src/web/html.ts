/**
 * Small HTML pages the middleware renders itself (errors, logout confirmation). Every dynamic value
 * is escaped; pages load nothing external, run no script, and refuse to be framed.
 *
 * @module
 */
import type { Response } from 'express';

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

/**
 * The headers of every page the middleware renders: no framing by any site (clickjacking of the
 * logout button, a framed error page), nothing loaded or run but the page's own inline style, no
 * MIME sniffing, and no `Referer` (a page at the callback has a code in its URL). No `form-action`:
 * the logout form's answer redirects to the AS's end-session endpoint, which it would block.
 *
 * @see https://www.w3.org/TR/CSP3/#directive-frame-ancestors
 * @see https://www.rfc-editor.org/rfc/rfc7034
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
});

/** Send `html` (a {@link page}) with `status` and the {@link PAGE_HEADERS}. */
export function sendPage(res: Response, status: number, html: string): void {
  res.status(status).set(PAGE_HEADERS).type('html').send(html);
}
