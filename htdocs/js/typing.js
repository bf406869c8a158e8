// The typing preview (#typing): "N is writing: …", one <li data-peer> per
// peer whose data channel carries text.  The text comes straight from
// another browser, so it is cut short, stripped of control characters and
// shown as text only.

/** The most characters of a peer's text shown. */
export const PREVIEW_MAX = 200;

/** A peer's text as it is shown: one line, at most PREVIEW_MAX characters. */
export function previewText(s) {
  if (typeof s !== 'string') return '';
  const chars = Array.from(s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim());
  return chars.length > PREVIEW_MAX ? `${chars.slice(0, PREVIEW_MAX).join('')}…` : chars.join('');
}

export class TypingList {
  constructor(ul) {
    this.ul = ul;
    this.items = new Map(); // peer name -> <li>
  }

  /** Shows what name is writing; an empty text removes the line. */
  set(name, text) {
    const shown = previewText(text);
    let li = this.items.get(name);
    if (shown === '') {
      li?.remove();
      this.items.delete(name);
      return;
    }
    if (!li) {
      li = document.createElement('li');
      li.dataset.peer = name;
      this.items.set(name, li);
      this.ul.append(li);
    }
    li.textContent = `${name} is writing: ${shown}`;
  }

  clear() {
    for (const li of this.items.values()) li.remove();
    this.items.clear();
  }
}
