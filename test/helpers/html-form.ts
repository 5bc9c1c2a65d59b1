/**
 * Just enough HTML parsing for the test browser: the first `<form>` of a page, its action, method
 * and the fields a browser would submit (inputs with a name; checkboxes and radios when checked;
 * buttons, file inputs and fields outside the form are left out).
 *
 * @module
 */

/** A parsed form. */
export interface ParsedForm {
  /** Absolute URL the form submits to (the page URL when the form has no action). */
  action: string;
  /** `GET` or `POST`. */
  method: 'GET' | 'POST';
  /** The `id` attribute, if any. */
  id: string | undefined;
  /** Field names and values in document order. */
  fields: Array<[string, string]>;
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const SKIPPED_TYPES = new Set(['submit', 'button', 'image', 'reset', 'file']);

/** Decode the character references that appear in attribute values. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[\da-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (Object.hasOwn(NAMED_ENTITIES, ref)) return NAMED_ENTITIES[ref]!;
    if (ref[0] !== '#') return whole;
    const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
    return String.fromCodePoint(code);
  });
}

/** The attributes of one start tag's inside (`name="x" value='y' checked`), names lower-cased. */
export function parseAttributes(tagInside: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const match of tagInside.matchAll(
    /([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g,
  )) {
    const name = match[1]!.toLowerCase();
    if (!attributes.has(name)) attributes.set(name, decodeEntities(match[2] ?? match[3] ?? match[4] ?? ''));
  }
  return attributes;
}

/**
 * Parse the first `<form>` of `html`.
 *
 * @param html The page.
 * @param pageUrl The page's URL, to resolve a relative action against.
 * @throws {Error} when the page has no form.
 */
export function parseFirstForm(html: string, pageUrl: string): ParsedForm {
  const match = /<form\b([^>]*)>([\s\S]*?)<\/form\s*>/i.exec(html);
  if (match === null) throw new Error(`no <form> on ${pageUrl}: ${html.slice(0, 300)}`);
  const formAttributes = parseAttributes(match[1]!);
  const fields: Array<[string, string]> = [];
  for (const input of match[2]!.matchAll(/<input\b([^>]*)>/gi)) {
    const attributes = parseAttributes(input[1]!);
    const name = attributes.get('name');
    const type = (attributes.get('type') ?? 'text').toLowerCase();
    if (name === undefined || name === '' || SKIPPED_TYPES.has(type) || attributes.has('disabled')) continue;
    if ((type === 'checkbox' || type === 'radio') && !attributes.has('checked')) continue;
    fields.push([name, attributes.get('value') ?? (type === 'checkbox' || type === 'radio' ? 'on' : '')]);
  }
  return {
    action: new URL(formAttributes.get('action') || pageUrl, pageUrl).href,
    method: formAttributes.get('method')?.toUpperCase() === 'POST' ? 'POST' : 'GET',
    id: formAttributes.get('id'),
    fields,
  };
}
