// Message text to segments: the markup the client understands (docs/web.md,
// "Message markup the client understands").
//
// The result is data, not DOM: a list of { kind, value } segments that
// render.js turns into nodes with textContent and attributes.  That keeps
// the one decision that matters for safety here, in plain code the Node
// tests can read: which strings may become a URL.  Only absolute http: and
// https: URLs that the URL parser accepts do; everything else stays text.
//
// No DOM and no browser globals here (URL is in Node too).

/** The emoticons: the code people type, the picture in img/, its words. */
export const EMOTICONS = Object.freeze([
  Object.freeze({ code: ':-)', file: 'smile.svg', label: 'smile' }),
  Object.freeze({ code: ':-(', file: 'sad.svg', label: 'sad' }),
  Object.freeze({ code: ';-)', file: 'wink.svg', label: 'wink' }),
  Object.freeze({ code: ':-D', file: 'grin.svg', label: 'grin' }),
  Object.freeze({ code: ':-P', file: 'tongue.svg', label: 'tongue' }),
  Object.freeze({ code: ':-O', file: 'surprise.svg', label: 'surprise' }),
]);

const BY_CODE = new Map(EMOTICONS.map((e) => [e.code, e]));
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// {image}URL or {link}URL (the URL runs to the next whitespace), or an
// emoticon code.  The tag is matched first where both could start.
const TOKEN = new RegExp(
  `\\{(image|link)\\}(\\S+)|(${EMOTICONS.map((e) => escapeRe(e.code)).join('|')})`, 'g');

/**
 * s as the full URL when it is an absolute http: or https: URL, else null.
 * The full form (URL.href) is what is shown and used, so what people see is
 * where the browser goes: host in punycode, no hidden credentials trick.
 */
export function safeUrl(s) {
  if (typeof s !== 'string' || s.length === 0 || s.length > 2048) return null;
  let u;
  try {
    u = new URL(s);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  if (u.username !== '' || u.password !== '') return null; // "https://bank@evil/"
  return u.href;
}

/**
 * Whether url is on another site than the page's origin (a string such as
 * "https://chat.example.org"); anything that does not parse counts as
 * another site.
 */
export function isOtherSite(url, origin) {
  try {
    return new URL(url).origin !== new URL(origin).origin;
  } catch {
    return true;
  }
}

/**
 * A regular expression that finds name in a text as a word of its own,
 * case-insensitive: not inside a longer word of letters, digits or '_'
 * (names hold non-ASCII letters and '-', where \b would be wrong).
 */
export function mentionPattern(name) {
  if (typeof name !== 'string' || name === '') return null;
  return new RegExp(`(?<![\\p{L}\\p{N}\\p{M}_])${escapeRe(name)}(?![\\p{L}\\p{N}\\p{M}_])`, 'giu');
}

/** True when text names name as a word of its own (case-insensitive). */
export function mentions(text, name) {
  const re = mentionPattern(name);
  return re !== null && typeof text === 'string' && re.test(text);
}

function pushText(out, value) {
  if (value === '') return;
  const last = out[out.length - 1];
  if (last && last.kind === 'text') last.value += value;
  else out.push({ kind: 'text', value });
}

/** Splits a text segment's value on mentions of name. */
function splitMentions(out, value, name) {
  const re = mentionPattern(name);
  if (!re) {
    pushText(out, value);
    return;
  }
  let at = 0;
  for (const m of value.matchAll(re)) {
    pushText(out, value.slice(at, m.index));
    out.push({ kind: 'mention', value: m[0] });
    at = m.index + m[0].length;
  }
  pushText(out, value.slice(at));
}

/**
 * text as segments, in order, that together show all of it:
 *   { kind: 'text', value }               shown as it is
 *   { kind: 'mention', value }            the reader's name, as written
 *   { kind: 'link', value: url }          a link whose text is url
 *   { kind: 'image', value: url }         an image, with url beside it
 *   { kind: 'emoticon', value: code, file, label }
 * opts.self: the reader's name, to mark where it is mentioned.
 */
export function parseMarkup(text, opts = {}) {
  const out = [];
  if (typeof text !== 'string') return out;
  const plain = [];
  let at = 0;
  const flushPlain = () => {
    const s = plain.join('');
    plain.length = 0;
    if (s !== '') splitMentions(out, s, opts.self);
  };
  for (const m of text.matchAll(TOKEN)) {
    plain.push(text.slice(at, m.index));
    at = m.index + m[0].length;
    if (m[1]) {
      const url = safeUrl(m[2]);
      if (url === null) {
        plain.push(m[0]); // another scheme or no URL: the text as typed
        continue;
      }
      flushPlain();
      out.push({ kind: m[1], value: url });
    } else {
      const e = BY_CODE.get(m[3]);
      flushPlain();
      out.push({ kind: 'emoticon', value: e.code, file: e.file, label: e.label });
    }
  }
  plain.push(text.slice(at));
  flushPlain();
  return out;
}

/**
 * The markup to insert for a URL typed into the image or link dialog:
 * { ok, url, other, text } where text is "{image}URL" or "{link}URL" when
 * ok; other says the URL is on another site than origin.
 */
export function insertion(kind, typed, origin) {
  const url = safeUrl(typeof typed === 'string' ? typed.trim() : '');
  if (url === null || (kind !== 'image' && kind !== 'link')) return { ok: false, url: null, other: false, text: '' };
  return { ok: true, url, other: isOtherSite(url, origin), text: `{${kind}}${url}` };
}
