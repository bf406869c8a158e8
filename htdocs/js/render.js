// Events to lines of the message list (#messages), and the list itself:
// history marks, no duplicates after a reconnect, scrollback that stays
// where the reader is.
//
// Every string from the network reaches the page as textContent, as an
// attribute set with setAttribute/dataset, or as a URL markup.js checked.
// Nothing is ever parsed as HTML.

import { parseMarkup, mentions } from './markup.js';
import { paint } from './users.js';

/** The most lines kept; older ones are dropped from the top. */
const MAX_LINES = 2000;
/** How close to the end (px) still counts as "at the bottom". */
const BOTTOM_SLACK = 48;

const IMG_BASE = new URL('../img/', import.meta.url);

/** A <time> for an event's ISO time (or now), shown in the reader's zone. */
function timeElement(iso) {
  let d = iso ? new Date(iso) : new Date();
  if (Number.isNaN(d.getTime())) d = new Date();
  const t = document.createElement('time');
  t.dateTime = iso || d.toISOString();
  t.textContent = d.toLocaleTimeString();
  t.title = d.toLocaleString();
  return t;
}

function span(cls, text) {
  const s = document.createElement('span');
  s.className = cls;
  if (text !== undefined) s.textContent = text;
  return s;
}

/** The nodes of a text with its markup (see markup.js). */
export function markupNodes(text, self) {
  const nodes = [];
  for (const seg of parseMarkup(text, { self })) {
    switch (seg.kind) {
      case 'link': {
        const a = document.createElement('a');
        a.href = seg.value;
        a.textContent = seg.value;
        a.rel = 'noopener noreferrer nofollow';
        a.target = '_blank';
        nodes.push(a);
        break;
      }
      case 'image': {
        const box = span('image');
        const img = document.createElement('img');
        img.alt = '';
        img.referrerPolicy = 'no-referrer';
        img.loading = 'lazy';
        img.decoding = 'async';
        img.src = seg.value;
        img.addEventListener('error', () => box.classList.add('broken'), { once: true });
        box.append(img, span('url', seg.value));
        nodes.push(box);
        break;
      }
      case 'emoticon': {
        const img = document.createElement('img');
        img.className = 'emoticon';
        img.src = new URL(seg.file, IMG_BASE).href;
        img.alt = seg.value;
        img.title = seg.label;
        img.width = 20;
        img.height = 20;
        nodes.push(img);
        break;
      }
      case 'mention': {
        const m = document.createElement('mark');
        m.textContent = seg.value;
        nodes.push(m);
        break;
      }
      default:
        nodes.push(document.createTextNode(seg.value));
    }
  }
  return nodes;
}

/**
 * The <li> of an event, or null for one that is not a line (users,
 * welcome, signal, history_end).  ctx: self (the reader's name),
 * colorOf(name) (the user list's colour).  The line's own fields:
 * data-type, data-from, class history and mention (docs/web.md).
 */
export function buildLine(ev, ctx) {
  const li = document.createElement('li');
  const from = (name, color) => {
    li.dataset.from = name;
    const s = span('from', name);
    paint(s, color);
    return s;
  };
  const text = (t) => span('text', t);
  let type = ev.type;
  const parts = [];
  switch (ev.type) {
    case 'message': {
      const own = ev.from === ctx.self;
      parts.push(from(ev.from, ev.color ?? ctx.colorOf(ev.from)));
      const t = text();
      t.append(...markupNodes(ev.text, own ? null : ctx.self));
      parts.push(t);
      if (!own && mentions(ev.text, ctx.self)) li.classList.add('mention');
      break;
    }
    case 'whisper': {
      parts.push(from(ev.from, ctx.colorOf(ev.from)));
      li.dataset.to = ev.to;
      parts.push(span('to', ev.to === ctx.self ? 'whispers to you:' : `whispers to ${ev.to}:`));
      const t = text();
      t.append(...markupNodes(ev.text, null));
      parts.push(t);
      break;
    }
    case 'command':
      parts.push(from(ev.from, ctx.colorOf(ev.from)), text(ev.text));
      li.dataset.command = ev.command;
      break;
    case 'join':
      parts.push(text(`${ev.name} joined the room`));
      li.dataset.name = ev.name;
      break;
    case 'quit':
      parts.push(text(`${ev.name} left the room`));
      li.dataset.name = ev.name;
      break;
    case 'notice':
      parts.push(from(ev.from, ctx.colorOf(ev.from)), text(`whispers something to ${ev.to}`));
      break;
    case 'kick':
      parts.push(from(ev.from, ctx.colorOf(ev.from)),
        text(`kicked ${ev.name} out${ev.reason ? `: ${ev.reason}` : ''}`));
      li.dataset.name = ev.name;
      break;
    case 'mute':
      parts.push(from(ev.from, ctx.colorOf(ev.from)),
        text(ev.minutes > 0 ? `muted ${ev.name} for ${ev.minutes} minutes` : `unmuted ${ev.name}`));
      li.dataset.name = ev.name;
      break;
    case 'topic':
      parts.push(from(ev.from, ctx.colorOf(ev.from)),
        text(ev.text ? `set the topic: ${ev.text}` : 'cleared the topic'));
      break;
    case 'line':
      type = 'notice';
      parts.push(text(ev.text));
      break;
    case 'error':
      // The one code that is good news (the room is back) reads as a notice.
      if (ev.code === 'available') type = 'notice';
      li.dataset.code = ev.code;
      parts.push(text(ev.message));
      break;
    case 'local':
      // A line of the client's own (connection lost, not sent, …).
      type = ev.kind === 'error' ? 'error' : 'notice';
      if (ev.code) li.dataset.code = ev.code;
      parts.push(text(ev.text));
      break;
    default:
      return null;
  }
  li.dataset.type = type;
  if (ev.history) li.classList.add('history');
  li.prepend(timeElement(ev.time));
  for (const p of parts) li.append(' ', p);
  return li;
}

/** What identifies a line of the room log, to know it again when replayed. */
function logKey(ev) {
  const who = ev.from ?? ev.name ?? '';
  return [ev.type, ev.time, who, ev.to ?? ev.name ?? '', ev.text ?? ev.reason ?? ev.minutes ?? ''].join('\u0000');
}

const KEYED = new Set(['join', 'quit', 'message', 'command', 'notice', 'line', 'kick', 'mute', 'topic']);

export class MessageList {
  /** ol: #messages; more: the "New messages" button. */
  constructor(ol, more) {
    this.ol = ol;
    this.more = more;
    this.shown = new Map(); // log key -> lines shown with it
    this.keys = new WeakMap(); // <li> -> its log key
    this.replay = null; // on a reconnect: keys still to skip in the history
    this.stuck = true; // the reader is at the bottom: follow new lines
    this.sawHistory = false;
    ol.addEventListener('scroll', () => {
      this.stuck = this.atBottom();
      if (this.stuck) this.more.hidden = true;
    }, { passive: true });
    // A narrower window or a taller composer changes the list's height:
    // a reader at the bottom stays there.
    if (typeof ResizeObserver === 'function') {
      new ResizeObserver(() => {
        if (this.stuck) this.ol.scrollTop = this.ol.scrollHeight;
      }).observe(ol);
    }
    more.addEventListener('click', () => {
      this.scrollToEnd();
      this.ol.focus();
    });
  }

  atBottom() {
    return this.ol.scrollHeight - this.ol.scrollTop - this.ol.clientHeight <= BOTTOM_SLACK;
  }

  scrollToEnd() {
    this.ol.scrollTop = this.ol.scrollHeight;
    this.stuck = true;
    this.more.hidden = true;
  }

  /**
   * A new connection is joining.  Its history replays the last lines of the
   * room log; those already on screen are skipped, so a reconnect shows
   * only what was missed.
   */
  beginConnection() {
    this.replay = this.shown.size > 0 ? new Map(this.shown) : null;
  }

  /**
   * Adds the line of ev (built by buildLine with ctx) unless it is a replayed
   * line already shown.  Returns the <li>, or null when nothing was added.
   */
  add(ev, ctx, hidden = false) {
    let key = null;
    if (KEYED.has(ev.type)) {
      key = logKey(ev);
      const left = ev.history && this.replay ? this.replay.get(key) ?? 0 : 0;
      if (left > 0) {
        this.replay.set(key, left - 1);
        return null;
      }
    }
    const li = buildLine(ev, ctx);
    if (!li) return null;
    if (key !== null) {
      this.keys.set(li, key);
      this.shown.set(key, (this.shown.get(key) ?? 0) + 1);
    }
    li.hidden = hidden;
    this.append(li);
    return li;
  }

  /** The divider after the history: the first time, and after a reconnect. */
  historyEnd(time) {
    const li = document.createElement('li');
    li.className = 'history-end';
    li.append(timeElement(time), ' ',
      span('text', this.sawHistory ? 'Reconnected: what you missed is above this line'
        : 'Earlier messages are above this line'));
    this.sawHistory = true;
    this.replay = null;
    this.append(li);
  }

  append(li) {
    const follow = this.stuck;
    this.ol.append(li);
    while (this.ol.childElementCount > MAX_LINES) this.drop(this.ol.firstElementChild);
    for (const img of li.querySelectorAll('img')) {
      // A picture that loads makes the line taller: keep the end in view.
      img.addEventListener('load', () => {
        if (this.stuck) this.scrollToEnd();
      }, { once: true });
    }
    if (follow) this.scrollToEnd();
    else if (!li.hidden && !li.classList.contains('history')) this.more.hidden = false;
  }

  drop(li) {
    const key = this.keys.get(li);
    if (key !== undefined) {
      const n = (this.shown.get(key) ?? 1) - 1;
      if (n > 0) this.shown.set(key, n);
      else this.shown.delete(key);
    }
    li.remove();
  }

  /** Hides or shows the lines of one sender (the ignore toggle). */
  setHiddenFrom(name, hidden) {
    for (const li of this.ol.children) if (li.dataset.from === name) li.hidden = hidden;
  }
}
