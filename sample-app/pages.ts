/**
 * The sample app's HTML: a public home page and a profile page. Every value is escaped.
 *
 * @module
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

/** A complete page around already-escaped body HTML. */
export function layout(title: string, bodyHtml: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}
a{color:#0b57d0}table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #ddd;vertical-align:top;word-break:break-all}
th{width:30%;font-weight:600}button{font:inherit;padding:.4rem 1rem;cursor:pointer}.muted{color:#666}
</style></head>
<body><header class="muted">express-par-login sample app</header>
${bodyHtml}</body></html>`;
}

/** The display name of a user: `name`, else `email`, else `sub`. */
function displayName(claims: Record<string, unknown>): string {
  return String(claims.name ?? claims.email ?? claims.sub ?? 'there');
}

/** The home page: a login link for visitors, a greeting for logged-in users. */
export function homePage(claims: Record<string, unknown> | undefined): string {
  if (claims === undefined) {
    return layout('Home', `<h1>Welcome</h1>
<p>This page is public. The profile page needs a login.</p>
<p><a href="/login?returnTo=%2Fprofile">Log in</a></p>`);
  }
  return layout('Home', `<h1>Hello, ${escapeHtml(displayName(claims))}</h1>
<p>You are logged in. <a href="/profile">See your profile</a>.</p>`);
}

function claimValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The profile page: the ID token's claims in a table and a logout button (a same-origin POST). */
export function profilePage(claims: Record<string, unknown>): string {
  const rows = Object.entries(claims)
    .map(([name, value]) => `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(claimValue(value))}</td></tr>`)
    .join('\n');
  return layout('Profile', `<h1>${escapeHtml(displayName(claims))}</h1>
<p>The claims of your ID token, as the app's session holds them (<a href="/me">as JSON</a>):</p>
<table>
${rows}
</table>
<form method="post" action="/logout"><button type="submit">Log out</button></form>
<p><a href="/">Home</a></p>`);
}
