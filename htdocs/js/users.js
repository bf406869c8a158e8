// The user list (#users) and the ignore list.
//
// The list is updated in place, one <li data-name> per member kept across
// `users` events, so a keyboard user's focus on a button survives a join
// or a colour change.  The ignore list is the reader's own: kept in
// localStorage, by name, and applied to whatever shows a member's words
// (render.js, typing.js ask isIgnored).

import { isColor, isName } from './protocol.js';

const IGNORED_KEY = 'chat.ignored';
const IGNORED_MAX = 500;

function loadIgnored(storage) {
  try {
    const v = JSON.parse(storage?.getItem(IGNORED_KEY) ?? '[]');
    return new Set(Array.isArray(v) ? v.filter(isName).slice(0, IGNORED_MAX) : []);
  } catch {
    return new Set();
  }
}

/** Sets the CSS colour of el to c, only when c is a colour chat_server accepts. */
export function paint(el, c) {
  if (isColor(c)) el.style.setProperty('color', c);
  else el.style.removeProperty('color');
}

export class UserList {
  /**
   * ul: <ul id="users">.  opts: onWhisper(name) when a name is clicked,
   * onIgnore(name, ignored) when a toggle changes, storage (localStorage
   * or null).
   */
  constructor(ul, opts) {
    this.ul = ul;
    this.opts = opts;
    this.items = new Map(); // name -> { li, nameButton, ignoreButton, color }
    this.self = null;
    this.ignored = loadIgnored(opts.storage);
  }

  setSelf(name) {
    this.self = name;
    for (const [n, item] of this.items) {
      item.li.classList.toggle('self', n === name);
      item.ignoreButton.hidden = n === name;
      item.you.hidden = n !== name;
    }
  }

  /** The members' names, in list order, the reader's own last (for completion). */
  names() {
    const all = [...this.items.keys()];
    return [...all.filter((n) => n !== this.self), ...all.filter((n) => n === this.self)];
  }

  has(name) {
    return this.items.has(name);
  }

  colorOf(name) {
    return this.items.get(name)?.color ?? null;
  }

  isIgnored(name) {
    return this.ignored.has(name);
  }

  /** Replaces the list with users ([{ name, color, verified }], in the
   * server's order). */
  update(users) {
    const keep = new Set(users.map((u) => u.name));
    for (const [n, item] of this.items) {
      if (!keep.has(n)) {
        item.li.remove();
        this.items.delete(n);
      }
    }
    let at = this.ul.firstElementChild;
    for (const u of users) {
      let item = this.items.get(u.name);
      if (!item) {
        item = this.create(u.name);
        this.items.set(u.name, item);
      }
      this.setColor(u.name, u.color);
      item.verified.hidden = !u.verified;
      // Move only what is out of place: moving a node drops its focus.
      if (item.li !== at) this.ul.insertBefore(item.li, at);
      else at = at.nextElementSibling;
    }
  }

  /** Empties the list (the connection is gone: who is there is unknown). */
  clear() {
    this.update([]);
  }

  setColor(name, color) {
    const item = this.items.get(name);
    if (!item) return;
    item.color = isColor(color) ? color : null;
    paint(item.nameButton, item.color);
  }

  create(name) {
    const li = document.createElement('li');
    li.dataset.name = name;
    li.classList.toggle('self', name === this.self);

    const nameButton = document.createElement('button');
    nameButton.type = 'button';
    nameButton.className = 'user-name';
    nameButton.textContent = name;
    nameButton.title = `Whisper to ${name}`;
    nameButton.addEventListener('click', () => this.opts.onWhisper(name));

    const ignoreButton = document.createElement('button');
    ignoreButton.type = 'button';
    ignoreButton.className = 'ignore';
    ignoreButton.textContent = 'Ignore';
    ignoreButton.setAttribute('aria-label', `Ignore ${name}`);
    ignoreButton.setAttribute('aria-pressed', String(this.ignored.has(name)));
    ignoreButton.addEventListener('click', () => this.toggleIgnore(name));
    // Ignoring oneself would only hide one's own words: no toggle for that.
    ignoreButton.hidden = name === this.self;

    // "(you)" beside the button, not in it: the button's name is the name.
    const you = document.createElement('span');
    you.className = 'you';
    you.textContent = '(you)';
    you.hidden = name !== this.self;

    // The site vouches for this name (a signed token or an OpenSSO login).
    const verified = document.createElement('span');
    verified.className = 'verified';
    verified.textContent = '✓';
    verified.title = 'Verified by the site';
    verified.setAttribute('aria-label', 'verified');
    verified.hidden = true;

    li.append(nameButton, ' ', verified, ' ', you, ' ', ignoreButton);
    return { li, nameButton, ignoreButton, you, verified, color: null };
  }

  toggleIgnore(name) {
    const now = !this.ignored.has(name);
    if (now) {
      if (this.ignored.size >= IGNORED_MAX) return;
      this.ignored.add(name);
    } else {
      this.ignored.delete(name);
    }
    try {
      this.opts.storage?.setItem(IGNORED_KEY, JSON.stringify([...this.ignored]));
    } catch {
      // Storage full or forbidden: the choice holds for this page only.
    }
    this.items.get(name)?.ignoreButton.setAttribute('aria-pressed', String(now));
    this.opts.onIgnore(name, now);
  }
}
