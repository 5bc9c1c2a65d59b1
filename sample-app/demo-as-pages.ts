/**
 * The demo authorization server's own pages: logout confirmation, logout done, and errors.
 * oidc-provider's defaults work but log a notice asking to replace them; these are plain and
 * escape every value.
 *
 * @module
 */
import type { ErrorOut, KoaContextWithOIDC } from 'oidc-provider';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escape(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

function render(ctx: KoaContextWithOIDC, title: string, bodyHtml: string): void {
  ctx.type = 'html';
  ctx.body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
button{font:inherit;padding:.4rem 1rem;margin-right:.5rem}</style></head>
<body><p><small>Demo authorization server</small></p>${bodyHtml}</body></html>`;
}

/**
 * `features.rpInitiatedLogout.logoutSource`: asks before ending the AS session. `form` is the
 * AS's own `<form id="op.logoutForm">` with its `xsrf` field; the "yes" button adds `logout=yes`.
 */
export function logoutSource(ctx: KoaContextWithOIDC, form: string): void {
  render(
    ctx,
    'Sign out',
    `<h1>Sign out of the demo AS too?</h1>${form}
<button autofocus type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
  );
}

/** `features.rpInitiatedLogout.postLogoutSuccessSource`: shown when no redirect URI was given. */
export function postLogoutSuccessSource(ctx: KoaContextWithOIDC): void {
  render(ctx, 'Signed out', '<h1>You are signed out.</h1>');
}

/** `renderError`: the AS's error page for the browser. */
export function renderError(ctx: KoaContextWithOIDC, out: ErrorOut): void {
  const description = out.error_description === undefined ? '' : `<p>${escape(out.error_description)}</p>`;
  render(ctx, 'Error', `<h1>Error: <code>${escape(out.error)}</code></h1>${description}`);
}
