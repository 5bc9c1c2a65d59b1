/**
 * The sample app's HTML: a public home page and a profile page. Every value is escaped.
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
export function layout(title: string, bodyHtml: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}
a{color:#0b57d0}table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #ddd;vertical-align:top;word-break:break-all}
th{width:30%;font-weight:600}button{font:inherit;padding:.4rem 1rem;cursor:pointer}.muted{color:#666}
.panel{margin-top:2rem;padding:.5rem 1rem;border:1px solid #cdd3e0;background:#f6f8fc}code{word-break:break-all}
</style></head>
<body><header class="muted">express-par-login sample app</header>
${bodyHtml}</body></html>`;
}

/** The display name of a user: `name`, else `email`, else `sub` (the first that is a string). */
function displayName(claims: Record<string, unknown>): string {
  for (const claim of [claims.name, claims.email, claims.sub]) if (typeof claim === 'string') return claim;
  return 'there';
}

/** The home page: a login link for visitors, a greeting for logged-in users. */
export function homePage(claims: Record<string, unknown> | undefined, panelHtml = ''): string {
  if (claims === undefined) {
    return layout(
      'Home',
      `<h1>Welcome</h1>
<p>This page is public. The profile page needs a login.</p>
<p><a href="/login?returnTo=%2Fprofile">Log in</a></p>${panelHtml}`,
    );
  }
  return layout(
    'Home',
    `<h1>Hello, ${escapeHtml(displayName(claims))}</h1>
<p>You are logged in. <a href="/profile">See your profile</a>.</p>${panelHtml}`,
  );
}

function claimValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The profile page: the ID token's claims in a table and a logout button (a same-origin POST). */
export function profilePage(claims: Record<string, unknown>, panelHtml = ''): string {
  const rows = Object.entries(claims)
    .map(([name, value]) => `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(claimValue(value))}</td></tr>`)
    .join('\n');
  return layout(
    'Profile',
    `<h1>${escapeHtml(displayName(claims))}</h1>
<p>The claims of your ID token, as the app's session holds them (<a href="/me">as JSON</a>):</p>
<table>
${rows}
</table>
<form method="post" action="/logout"><button type="submit">Log out</button></form>
<p><a href="/">Home</a></p>${panelHtml}`,
  );
}

/** Form fields never shown, even in the demo. */
const MASKED = new Set(['client_secret', 'client_assertion']);

/**
 * The demo's "what happened" panel for the last login the AS saw: the parameters pushed on the back
 * channel, what the AS answered, and the URL the browser carried (only `client_id` and `request_uri`).
 */
export function parPanel(
  record: readonly {
    endpoint: string;
    body: Record<string, unknown>;
    status: number;
    authorization?: string | undefined;
    pushed?: { request_uri: string; expires_in: number };
    url?: string;
  }[],
): string {
  const push = [...record].reverse().find((r) => r.endpoint === 'par');
  if (push === undefined) return '';
  const front = record.slice(record.indexOf(push)).find((r) => r.endpoint === 'authorization');
  const rows = Object.entries(push.body)
    .map(
      ([name, value]) =>
        `<tr><th>${escapeHtml(name)}</th><td>${MASKED.has(name) ? '<i>hidden</i>' : escapeHtml(claimValue(value))}</td></tr>`,
    )
    .join('\n');
  const auth = push.authorization
    ? `${escapeHtml(push.authorization.split(' ')[0])} <i>(client credentials, hidden)</i>`
    : '<i>none</i>';
  const answered = push.pushed
    ? `<p>The AS answered <code>${push.status}</code> with <code>request_uri</code> <code>${escapeHtml(push.pushed.request_uri)}</code>, valid for <code>expires_in</code> = ${escapeHtml(push.pushed.expires_in)} seconds.</p>`
    : `<p>The AS answered <code>${push.status}</code>.</p>`;
  const browser = front?.url
    ? `<p>Then the browser was sent to the authorization endpoint with nothing else (${escapeHtml(front.url.length)} characters):</p><p><code id="front-channel-url">${escapeHtml(front.url)}</code></p>`
    : '';
  return `<section id="par-panel" class="panel"><h2>What happened (demo)</h2>
<p>The app pushed these parameters to the AS over the back channel (<code>POST /request</code>, client authentication: ${auth}):</p>
<table>
${rows}
</table>
${answered}
${browser}
<p class="muted">None of the parameters above travelled through the browser.</p></section>`;
}
