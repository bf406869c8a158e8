// The WebSocket to chat_server: opening it with ?proto=json, reconnecting
// with backoff when it drops, and the state people see in
// #connection-state (docs/web.md: Connecting…, Connected,
// Reconnecting in N s…, Disconnected).
//
// Each server line is decoded here (protocol.js) and handed on as an event;
// this module looks at two kinds itself: `welcome` (the join worked: now we
// are Connected) and the `error` codes after which trying again cannot help.

import { decodeEvent } from './protocol.js';

/** Backoff: the first retry after about 1 s, doubling up to 30 s. */
export const BACKOFF_FIRST_MS = 1000;
export const BACKOFF_MAX_MS = 30000;
/** A connection that lived this long after its welcome starts the backoff afresh. */
const STABLE_MS = 30000;
/** A socket still not open after this long is given up and retried. */
const OPEN_TIMEOUT_MS = 20000;

// Errors that end the connection and would end the next one the same way:
// the room name, the page's origin, the server's configuration.  Others
// that end it (room_full, flood, busy, server, …) may pass: those retry.
const PERMANENT = new Set(['bad_room', 'origin', 'config']);

/**
 * The wait before retry number attempt (0 for the first), in ms: the
 * doubling step with jitter, so that the browsers of a room that lost its
 * server do not all come back in the same instant.  random() is in [0, 1).
 */
export function backoffDelay(attempt, random = Math.random) {
  const step = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(attempt, 15));
  return Math.round(step * (0.5 + 0.5 * random()));
}

/** url (without a query or with one) with proto=json added to its query. */
export function jsonUrl(url) {
  const base = url.split('#')[0];
  return `${base}${base.includes('?') ? '&' : '?'}proto=json`;
}

export class Connection {
  /**
   * url: the WebSocket URL without ?proto=json.
   * handlers: onEvent(ev) for each decoded event, onState(state, text),
   * onOpen() when a new socket opens, onLost({ manual, welcomed }) when
   * it closes.
   */
  constructor(url, handlers) {
    this.url = url;
    this.h = handlers;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.tick = null;
    this.openTimer = null;
    this.welcomedAt = 0;
    this.stopped = true;
    this.permanent = false;
    this.state = 'disconnected';
    // Back online: waiting out the backoff would only delay.
    globalThis.addEventListener?.('online', () => {
      if (this.timer !== null) this.connect();
    });
  }

  /** True while a socket is open and joined (after its welcome). */
  get connected() {
    return this.state === 'connected';
  }

  setState(state, text) {
    this.state = state;
    this.h.onState(state, text);
  }

  /** Opens a socket now (also ends a backoff wait). */
  connect() {
    this.clearTimers();
    if (this.ws) return;
    this.stopped = false;
    this.permanent = false;
    this.welcomedAt = 0;
    this.setState('connecting', 'Connecting…');
    let ws;
    try {
      ws = new WebSocket(jsonUrl(this.url));
    } catch {
      // A URL the browser refuses outright: nothing to retry.
      this.stopped = true;
      this.setState('disconnected', 'Disconnected');
      return;
    }
    this.ws = ws;
    this.openTimer = setTimeout(() => ws.close(), OPEN_TIMEOUT_MS);
    ws.addEventListener('open', () => {
      clearTimeout(this.openTimer);
      this.h.onOpen();
    });
    ws.addEventListener('message', (m) => {
      if (ws !== this.ws || typeof m.data !== 'string') return;
      const ev = decodeEvent(m.data);
      if (!ev) return;
      if (ev.type === 'welcome') {
        this.welcomedAt = Date.now();
        this.setState('connected', 'Connected');
      } else if (ev.type === 'error' && PERMANENT.has(ev.code)) {
        this.permanent = true;
      }
      this.h.onEvent(ev);
    });
    ws.addEventListener('close', () => this.closed(ws));
  }

  closed(ws) {
    if (ws !== this.ws) return;
    clearTimeout(this.openTimer);
    this.ws = null;
    const welcomed = this.welcomedAt !== 0;
    if (welcomed && Date.now() - this.welcomedAt >= STABLE_MS) this.attempt = 0;
    this.h.onLost({ manual: this.stopped, welcomed });
    if (this.stopped || this.permanent) {
      this.stopped = true;
      this.setState('disconnected', 'Disconnected');
      return;
    }
    this.schedule();
  }

  /** Waits out the backoff, counting down in #connection-state. */
  schedule() {
    const due = Date.now() + backoffDelay(this.attempt++);
    const show = () => {
      const s = Math.max(1, Math.ceil((due - Date.now()) / 1000));
      this.setState('reconnecting', `Reconnecting in ${s} s…`);
    };
    show();
    this.tick = setInterval(show, 1000);
    this.timer = setTimeout(() => this.connect(), due - Date.now());
  }

  clearTimers() {
    clearTimeout(this.timer);
    clearInterval(this.tick);
    this.timer = null;
    this.tick = null;
  }

  /** Closes the socket and stays disconnected until connect(). */
  disconnect() {
    this.stopped = true;
    this.clearTimers();
    this.attempt = 0;
    if (this.ws) {
      this.ws.close(1000);
    } else {
      this.setState('disconnected', 'Disconnected');
    }
  }

  /** Sends one request line; false when there is no joined connection. */
  send(line) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || !this.connected) return false;
    this.ws.send(line);
    return true;
  }
}
