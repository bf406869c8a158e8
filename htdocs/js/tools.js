// The tools beside the message field: dice, colour, the image and link
// dialog, the emoticon buttons.  Each turns a form into a request or into
// text for the field; none of them reads anything from the network.

import { colorCommand, diceCommand, hexColor, isColor } from './protocol.js';
import { EMOTICONS, insertion } from './markup.js';

/** <form id="dice">: sends /dice X Y Z. send(text) sends a command. */
export function setupDice(form, send) {
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    const f = form.elements;
    const cmd = diceCommand(f.namedItem('count').value, f.namedItem('sides').value,
      f.namedItem('again').value);
    if (cmd !== null) send(cmd);
  });
}

/**
 * A colour as #rrggbb for <input type=color>: hex colours directly, names
 * through the canvas, which normalises any colour it accepts to hex.
 */
function toHex(c) {
  const h = hexColor(c);
  if (h || !isColor(c)) return h;
  const ctx = document.createElement('canvas').getContext('2d');
  if (!ctx) return null;
  ctx.fillStyle = '#000000';
  ctx.fillStyle = c;
  return hexColor(ctx.fillStyle);
}

/** <form id="color-form">: sends /color #rrggbb.  Returns { set(color) }. */
export function setupColor(form, input, send) {
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const cmd = colorCommand(input.value);
    if (cmd !== null) send(cmd);
  });
  return {
    /** Shows the reader's colour as the server has it. */
    set(color) {
      const h = toHex(color);
      if (h) input.value = h;
    },
  };
}

/**
 * The dialog of "Insert image" and "Insert link": a URL field, the URL in
 * full as it will be inserted, a warning when it is on another site, and
 * Insert, enabled only for an http: or https: URL.  A native <dialog>
 * opened with showModal(): it keeps the focus inside, Escape closes it and
 * the focus goes back to the button that opened it.
 * insert(text) puts "{image}URL" or "{link}URL" into the message field.
 */
export function setupUrlDialog(root, insert) {
  const dialog = root.querySelector('#url-dialog');
  const form = dialog.querySelector('form');
  const title = dialog.querySelector('#url-dialog-title');
  const field = dialog.querySelector('#url-input');
  const full = dialog.querySelector('#url-full');
  const fullBox = dialog.querySelector('#url-full-box');
  const warning = dialog.querySelector('#url-warning');
  const problem = dialog.querySelector('#url-problem');
  const ok = dialog.querySelector('#url-insert');
  const cancel = dialog.querySelector('#url-cancel');
  let kind = 'link';
  let current = insertion(kind, '', location.origin);

  const check = () => {
    current = insertion(kind, field.value, location.origin);
    fullBox.hidden = !current.ok;
    full.textContent = current.ok ? current.url : '';
    warning.hidden = !current.other;
    if (current.other) {
      warning.textContent = `This address is on another site, ${new URL(current.url).host}: ` +
        (kind === 'image' ? 'everyone who sees the picture will load it from there.'
          : 'check that it is where you mean to send people.');
    }
    problem.hidden = current.ok || field.value.trim() === '';
    ok.disabled = !current.ok;
  };

  field.addEventListener('input', check);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    check();
    if (!current.ok) return;
    dialog.close('insert');
    insert(current.text);
  });
  cancel.addEventListener('click', () => dialog.close('cancel'));

  const open = (k) => {
    kind = k;
    title.textContent = k === 'image' ? 'Insert image' : 'Insert link';
    field.value = '';
    check();
    dialog.showModal();
    field.focus();
  };
  root.querySelector('#insert-image').addEventListener('click', () => open('image'));
  root.querySelector('#insert-link').addEventListener('click', () => open('link'));
}

/** One button per emoticon in container; insert(code) puts it in the field. */
export function setupEmoticons(container, insert) {
  const base = new URL('../img/', import.meta.url);
  for (const e of EMOTICONS) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'emoticon-button';
    b.setAttribute('aria-label', `Insert ${e.code}`);
    b.title = `${e.code} (${e.label})`;
    const img = document.createElement('img');
    img.src = new URL(e.file, base).href;
    img.alt = '';
    img.width = 20;
    img.height = 20;
    b.append(img);
    b.addEventListener('click', () => insert(e.code));
    container.append(b);
  }
}
