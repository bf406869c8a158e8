// WebRTC: one RTCDataChannel to each other member, to show what each one is
// typing (the old "… is writing" preview) without going through the server.
//
// Negotiation goes through `signal` requests and events (docs/protocol.md):
// an offer or an answer ({type, sdp}, CRLF written as "zalomeni" as the old
// client does, so both kinds understand each other) or a candidate.
//
// Who offers: of two names, the smaller (JavaScript string order, the same
// in every browser) opens the channel and makes the offer; the other waits.
// Each side also follows the "perfect negotiation" pattern (the answering
// side is polite), so an offer that crosses ours, from a client that
// follows another rule, rolls one of them back instead of deadlocking.
// Our side never renegotiates, so an offer on a connection that already
// finished its negotiation means the peer started afresh (it reconnected):
// the old connection is dropped and a new one answers.

import { encodeSignal, sdpFromWire, sdpToWire } from './protocol.js';

/** Throttle of the typing preview: at most one send per peer this often. */
export const DRAFT_INTERVAL_MS = 150;
/** The most characters of the draft sent. */
const DRAFT_MAX = 500;
/** The most characters accepted from a peer in one data channel message. */
const INCOMING_MAX = 4000;
/** The most peer connections kept at once (each costs ports and CPU). */
const MAX_PEERS = 32;
/** An offerer retries a failed connection this often, waiting longer each time. */
const MAX_RETRIES = 3;
/** A connection not up after this long has failed (nothing else may say so). */
const CONNECT_TIMEOUT_MS = 30000;

export class Peers {
  /**
   * send(line): sends a request line, false when not connected.
   * onText(name, text): a peer's draft ('' when it has none, or is gone).
   * onFailed(name): the connection to name failed (the first time in a
   *   row: retries that fail again are not told again).
   * log(message): a developer's note (console), never the page.
   */
  constructor({ send, onText, onFailed = () => {}, log }) {
    this.send = send;
    this.onText = onText;
    this.onFailed = onFailed;
    this.log = log;
    this.self = null;
    this.ice = [];
    this.policy = 'all';
    this.peers = new Map(); // name -> peer
    this.members = new Set();
    this.retries = new Map(); // name -> failed attempts in a row
    this.draft = { text: '', onlyTo: null };
    this.lastFlush = 0;
    this.flushTimer = null;
    this.active = false;
    this.held = false;
  }

  get supported() {
    return typeof RTCPeerConnection === 'function';
  }

  /**
   * A new joined connection: our name, the welcome's ICE servers and its
   * transport policy ('relay': through the TURN servers only).
   */
  start(self, iceServers, policy = 'all') {
    this.stop();
    this.self = self;
    this.ice = iceServers;
    this.policy = policy === 'relay' ? 'relay' : 'all';
    this.active = this.supported;
    this.held = false;
  }

  /**
   * While the room is unavailable (its server lost Redis) every signal
   * would be refused: none is sent, and a negotiation caught in it times
   * out and is tried again as any failed one.  Let go, the missing peers
   * are opened again.
   */
  hold(on) {
    if (this.held === on) return;
    this.held = on;
    if (!on) this.sync([...this.members]);
  }

  /** Closes every peer connection (we left, or lost the server). */
  stop() {
    this.active = false;
    for (const name of [...this.peers.keys()]) this.close(name);
    this.members.clear();
    this.retries.clear();
  }

  /** The room's members now: connect to the new ones, drop those gone. */
  sync(names) {
    this.members = new Set(names.filter((n) => n !== this.self));
    if (!this.active) return;
    for (const name of [...this.peers.keys()]) if (!this.members.has(name)) this.close(name);
    for (const name of this.members) {
      if (!this.peers.has(name) && this.self < name) this.open(name, true);
    }
  }

  signal(name, data) {
    if (this.held) return;
    const line = encodeSignal(name, data);
    if (line === null) {
      this.log(`signal to ${name} not sent: not signalling the server passes on`);
      return;
    }
    this.send(line);
  }

  /** A new RTCPeerConnection to name; offerer: we open the channel. */
  open(name, offerer) {
    if (this.peers.size >= MAX_PEERS) return null;
    const pc = new RTCPeerConnection({ iceServers: this.ice, iceTransportPolicy: this.policy });
    const p = {
      name, pc, dc: null, polite: !offerer, makingOffer: false, ignoreOffer: false,
      chain: Promise.resolve(), sent: '', negotiated: false, gathered: 0, timer: null,
    };
    this.peers.set(name, p);
    pc.addEventListener('icecandidate', ({ candidate }) => {
      if (!candidate || !candidate.candidate) return;
      p.gathered++;
      this.signal(name, candidate.toJSON());
    });
    // A connection that cannot come up never says "failed": with no
    // address of ours to try (every TURN server refused us, under the
    // relay policy, or no usable interface) it stays "new" for good.
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete' && p.gathered === 0 && this.peers.get(name) === p) {
        this.log(`no ICE candidate for ${name}: nothing to connect with`);
        this.failed(p);
      }
    });
    pc.addEventListener('icecandidateerror', (e) => {
      this.log(`ICE server ${e.url} (for ${name}): ${e.errorCode} ${e.errorText}`);
    });
    p.timer = setTimeout(() => {
      p.timer = null;
      if (this.peers.get(name) === p && pc.connectionState !== 'connected') this.failed(p);
    }, CONNECT_TIMEOUT_MS);
    pc.addEventListener('negotiationneeded', async () => {
      try {
        p.makingOffer = true;
        await pc.setLocalDescription();
        const d = pc.localDescription;
        this.signal(name, { type: d.type, sdp: sdpToWire(d.sdp) });
      } catch (err) {
        this.log(`offer to ${name} failed: ${err}`);
      } finally {
        p.makingOffer = false;
      }
    });
    pc.addEventListener('datachannel', ({ channel }) => this.attach(p, channel));
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'failed' && this.peers.get(name) === p) this.failed(p);
    });
    if (offerer) this.attach(p, pc.createDataChannel('typing'));
    return p;
  }

  attach(p, dc) {
    dc.addEventListener('open', () => {
      if (this.peers.get(p.name) !== p) return;
      clearTimeout(p.timer);
      p.timer = null;
      p.dc = dc;
      p.sent = '';
      this.retries.delete(p.name);
      this.flushTo(p);
    });
    dc.addEventListener('message', (m) => {
      if (this.peers.get(p.name) !== p || typeof m.data !== 'string') return;
      this.onText(p.name, m.data.slice(0, INCOMING_MAX));
    });
    dc.addEventListener('close', () => {
      if (p.dc === dc) p.dc = null;
      if (this.peers.get(p.name) === p) this.onText(p.name, '');
    });
  }

  failed(p) {
    const { name } = p;
    const offerer = !p.polite;
    this.close(name);
    const n = (this.retries.get(name) ?? 0) + 1;
    this.retries.set(name, n);
    if (n === 1) this.onFailed(name);
    if (!offerer || n > MAX_RETRIES) return;
    setTimeout(() => {
      if (this.active && this.members.has(name) && !this.peers.has(name)) this.open(name, true);
    }, 2000 * 2 ** (n - 1));
  }

  close(name) {
    const p = this.peers.get(name);
    if (!p) return;
    this.peers.delete(name);
    clearTimeout(p.timer);
    try {
      p.dc?.close();
      p.pc.close();
    } catch {
      // already closed
    }
    this.onText(name, '');
  }

  /** A `signal` event from name. */
  handle(from, data) {
    if (!this.active || from === this.self) return;
    let p = this.peers.get(from);
    if (data.type === 'offer' || data.type === 'answer') {
      const desc = { type: data.type, sdp: sdpFromWire(data.sdp) };
      if (desc.type === 'offer' && p && p.negotiated && p.pc.signalingState === 'stable') {
        this.close(from); // the peer started afresh
        p = null;
      }
      if (!p) {
        if (desc.type !== 'offer') return; // an answer to nothing of ours
        p = this.open(from, false);
        if (!p) return;
      }
      const q = p;
      q.chain = q.chain.then(async () => {
        const pc = q.pc;
        const collision = desc.type === 'offer' && (q.makingOffer || pc.signalingState !== 'stable');
        q.ignoreOffer = !q.polite && collision;
        if (q.ignoreOffer) return;
        await pc.setRemoteDescription(desc);
        q.negotiated = desc.type === 'answer';
        if (desc.type === 'offer') {
          await pc.setLocalDescription();
          const d = pc.localDescription;
          this.signal(from, { type: d.type, sdp: sdpToWire(d.sdp) });
          q.negotiated = true;
        }
      }).catch((err) => {
        this.log(`${desc.type} from ${from} not taken: ${err}`);
      });
      return;
    }
    if (!p) return; // a candidate for a connection we no longer have
    const q = p;
    q.chain = q.chain.then(() => q.pc.addIceCandidate(data)).catch((err) => {
      if (!q.ignoreOffer) this.log(`candidate from ${from} not taken: ${err}`);
    });
  }

  /**
   * The reader's field now.  onlyTo: a name when the text is a whisper to
   * it, so that only its addressee sees it being written.  Sent at most
   * every DRAFT_INTERVAL_MS, the last state always.
   */
  setDraft(text, onlyTo = null) {
    this.draft = { text: Array.from(text).slice(0, DRAFT_MAX).join(''), onlyTo };
    if (this.flushTimer !== null) return;
    const wait = this.lastFlush + DRAFT_INTERVAL_MS - Date.now();
    if (wait <= 0) this.flush();
    else this.flushTimer = setTimeout(() => this.flush(), wait);
  }

  flush() {
    this.flushTimer = null;
    this.lastFlush = Date.now();
    for (const p of this.peers.values()) this.flushTo(p);
  }

  flushTo(p) {
    if (!p.dc || p.dc.readyState !== 'open') return;
    const { text, onlyTo } = this.draft;
    const value = onlyTo === null || onlyTo === p.name ? text : '';
    if (value === p.sent) return;
    try {
      p.dc.send(value);
      p.sent = value;
    } catch (err) {
      this.log(`typing preview to ${p.name} not sent: ${err}`);
    }
  }
}
