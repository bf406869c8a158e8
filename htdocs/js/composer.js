// The message field: what a typed text is (message, whisper or command),
// Tab completion of names, Enter to send.
//
// The top half is pure (parseOutgoing, whisperTarget, complete) and runs in
// Node's tests; only setupComposer() touches the DOM, when it is called.

import { utf8Length } from './protocol.js';

/** The most lines one send may make (each line is one request). */
export const MAX_LINES = 10;

// "Name: text": a word without spaces or colons, a colon and a space.  Names
// cannot hold a space, a control character or a colon (docs/web.md), so
// this cuts where a name ends.
const WHISPER_RE = /^([^\u0000-\u0020:]+): ([\s\S]*)$/;

/**
 * The addressee when text starts with "Name: " and Name is one of names
 * (exactly, as the server compares), else null.
 */
export function whisperTarget(text, names) {
  if (typeof text !== 'string') return null;
  const m = WHISPER_RE.exec(text);
  return m && names.includes(m[1]) ? m[1] : null;
}

/**
 * What sending text means, given the names of the room and the server's
 * limit of bytes (null when unknown):
 *   null                                    nothing to send
 *   { type: 'command', texts: [t] }         starts with "/": one command
 *   { type: 'whisper', to, texts: [...] }   "Name: …" with Name present
 *   { type: 'message', texts: [...] }       anything else
 *   { error: 'too_long', limit } | { error: 'too_many_lines', limit }
 * The protocol carries no line breaks (the server removes control
 * characters), so each non-blank line is one request of the same kind: a
 * whisper stays a whisper on every line, never published by a line break.
 */
export function parseOutgoing(text, names, maxBytes = null) {
  if (typeof text !== 'string' || text.trim() === '') return null;
  let type = 'message';
  let to = null;
  let body = text;
  if (text.startsWith('/')) {
    type = 'command';
    body = text.split(/\r\n|\r|\n/).join(' ');
  } else {
    to = whisperTarget(text, names);
    if (to !== null) {
      type = 'whisper';
      body = WHISPER_RE.exec(text)[2];
    }
  }
  const texts = body.split(/\r\n|\r|\n/).filter((l) => l.trim() !== '');
  if (texts.length === 0) return null;
  if (texts.length > MAX_LINES) return { error: 'too_many_lines', limit: MAX_LINES };
  if (maxBytes !== null) {
    // A whisper counts as the legacy line "<to>: <text>" (docs/protocol.md).
    const size = (t) => (type === 'whisper' ? utf8Length(`${to}: ${t}`) : utf8Length(t));
    if (texts.some((t) => size(t) > maxBytes)) return { error: 'too_long', limit: maxBytes };
  }
  return type === 'whisper' ? { type, to, texts } : { type, texts };
}

/**
 * Tab completion.  value and caret are the field's; names the candidates
 * in the order to offer them; state what the previous call returned (to
 * go on to the next candidate on the next Tab), or null.
 * Returns { value, caret, state }, or null when there is nothing to
 * complete (then Tab should move the focus as usual).
 * A name completed at the start of the field gets ": " (a whisper), one
 * elsewhere a space.  Prefixes match case-insensitively.
 */
export function complete(value, caret, names, state = null) {
  let start;
  let list;
  let index;
  if (state && state.value === value && state.caret === caret && state.list.length > 0) {
    ({ start, list } = state);
    index = (state.index + 1) % list.length;
  } else {
    const before = value.slice(0, caret);
    start = before.search(/\S*$/);
    const prefix = before.slice(start).toLowerCase();
    if (prefix === '') return null;
    list = names.filter((n) => n.toLowerCase().startsWith(prefix));
    if (list.length === 0) return null;
    index = 0;
  }
  const name = list[index];
  const rest = value.slice(caret);
  let suffix = start === 0 ? ': ' : ' ';
  if (rest.startsWith(suffix)) suffix = ''; // completing in front of text already spaced
  const out = value.slice(0, start) + name + suffix + rest;
  const at = start + name.length + suffix.length;
  return { value: out, caret: at, state: { value: out, caret: at, start, list, index } };
}

/**
 * Inserts text into value at [from, to), with a space on each side where
 * the neighbouring character is not already one, so "{link}URL" stays a
 * word of its own.  Returns { value, caret }.
 */
export function insertText(value, from, to, text) {
  const before = value.slice(0, from);
  const after = value.slice(to);
  const pre = before === '' || /\s$/.test(before) ? '' : ' ';
  const post = /^\s/.test(after) ? '' : ' ';
  const out = before + pre + text + post + after;
  // The caret goes past the space after the text, ours or the one there.
  return { value: out, caret: before.length + pre.length + text.length + 1 };
}

// ---- the DOM part ---------------------------------------------------------

/**
 * Wires the composer form.  opts:
 *   form, field         the <form id="composer"> and its <textarea>
 *   names()             the room's names, the reader's own last
 *   maxBytes()          the server's limit, or null
 *   submit(parsed)      sends a parseOutgoing() result; true when sent
 *   refuse(why)         shows why a text was not sent ({ error, limit })
 *   draft(text)         the field changed (for the typing preview)
 * Returns { whisperTo(name), insert(text), focus() }.
 */
export function setupComposer(opts) {
  const { form, field } = opts;
  let completion = null;

  field.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
      return;
    }
    if (e.key === 'Tab' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey &&
        field.selectionStart === field.selectionEnd) {
      // Only a Tab that completes is kept from moving the focus, so the
      // field is never a keyboard trap.
      const r = complete(field.value, field.selectionStart, opts.names(), completion);
      if (r) {
        e.preventDefault();
        field.value = r.value;
        field.setSelectionRange(r.caret, r.caret);
        completion = r.state;
        opts.draft(field.value);
      }
      return;
    }
    if (e.key !== 'Shift') completion = null;
  });

  field.addEventListener('input', () => {
    completion = null;
    opts.draft(field.value);
  });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const parsed = parseOutgoing(field.value, opts.names(), opts.maxBytes());
    if (parsed === null) return;
    if (parsed.error) {
      opts.refuse(parsed);
      return;
    }
    if (opts.submit(parsed)) {
      field.value = '';
      completion = null;
      opts.draft('');
    }
    field.focus();
  });

  return {
    /** Starts (or readdresses) a whisper to name, keeping what was typed. */
    whisperTo(name) {
      const m = WHISPER_RE.exec(field.value);
      const rest = m && opts.names().includes(m[1]) ? m[2] : field.value;
      field.value = `${name}: ${rest}`;
      field.focus();
      field.setSelectionRange(field.value.length, field.value.length);
      opts.draft(field.value);
    },
    /** Inserts text at the caret (or over the selection). */
    insert(text) {
      const r = insertText(field.value, field.selectionStart, field.selectionEnd, text);
      field.value = r.value;
      field.focus();
      field.setSelectionRange(r.caret, r.caret);
      opts.draft(field.value);
    },
    focus() {
      field.focus();
    },
  };
}
