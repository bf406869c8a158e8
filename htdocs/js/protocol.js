// The JSON protocol of docs/protocol.md ("The JSON protocol"): server events
// in, requests out.
//
// Everything the network says is checked here, once: an event that comes
// out of decodeEvent() has the fields of its type with the right types,
// names that chat_server could have made and colours that are CSS colours.
// The rest of the client relies on that and never looks at raw JSON.  What
// does not fit is dropped (null), never repaired into something else.
//
// No DOM and no browser globals here: tests/web/client_unit.test.js runs
// this module in Node.

/** The most bytes of a name (src/identity.h, NAME_MAX_BYTES). */
export const NAME_MAX_BYTES = 64;
/** The most bytes of a colour (src/color.h, COLOR_MAX). */
export const COLOR_MAX = 32;
/** The most bytes of signalling data, written compact. */
export const SIGNAL_MAX_BYTES = 64 * 1024;

// The CSS named colours src/color.c accepts (CSS Color 4, without the
// keywords that are not a fixed colour).  Compared lower-cased.
const COLOR_NAMES = new Set(`aliceblue antiquewhite aqua aquamarine azure beige
bisque black blanchedalmond blue blueviolet brown burlywood cadetblue
chartreuse chocolate coral cornflowerblue cornsilk crimson cyan darkblue
darkcyan darkgoldenrod darkgray darkgreen darkgrey darkkhaki darkmagenta
darkolivegreen darkorange darkorchid darkred darksalmon darkseagreen
darkslateblue darkslategray darkslategrey darkturquoise darkviolet deeppink
deepskyblue dimgray dimgrey dodgerblue firebrick floralwhite forestgreen
fuchsia gainsboro ghostwhite gold goldenrod gray green greenyellow grey
honeydew hotpink indianred indigo ivory khaki lavender lavenderblush
lawngreen lemonchiffon lightblue lightcoral lightcyan lightgoldenrodyellow
lightgray lightgreen lightgrey lightpink lightsalmon lightseagreen
lightskyblue lightslategray lightslategrey lightsteelblue lightyellow lime
limegreen linen magenta maroon mediumaquamarine mediumblue mediumorchid
mediumpurple mediumseagreen mediumslateblue mediumspringgreen
mediumturquoise mediumvioletred midnightblue mintcream mistyrose moccasin
navajowhite navy oldlace olive olivedrab orange orangered orchid
palegoldenrod palegreen paleturquoise palevioletred papayawhip peachpuff
peru pink plum powderblue purple rebeccapurple red rosybrown royalblue
saddlebrown salmon sandybrown seagreen seashell sienna silver skyblue
slateblue slategray slategrey snow springgreen steelblue tan teal thistle
tomato turquoise violet wheat white whitesmoke yellow yellowgreen`.split(/\s+/));

const HEX_COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
// What src/identity.c refuses in a name: C0 controls and space, DEL, C1
// controls and no-break space, and the separators of the line formats.
const NAME_FORBIDDEN = /[\u0000-\u0020\u007f-\u00a0/_:,><"'\\]/;
// A UTF-16 surrogate without its other half: not a character, so not UTF-8.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// The server's times: ISO 8601 to the second with the UTC offset.
const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[+-]\d\d:\d\d|Z)$/;

/** Bytes of s in UTF-8 (a lone surrogate counts as the 3 of U+FFFD). */
export function utf8Length(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length &&
             s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** True for a name chat_server accepts (docs/web.md, "the one rule"). */
export function isName(s) {
  return typeof s === 'string' && s.length > 0 && utf8Length(s) <= NAME_MAX_BYTES &&
    !NAME_FORBIDDEN.test(s) && !LONE_SURROGATE.test(s);
}

/**
 * True for a colour chat_server accepts: #rgb, #rrggbb or a CSS colour
 * keyword in any case.  Only such a string may reach element.style, so
 * that nothing from the network can write anything else into CSS.
 */
export function isColor(s) {
  if (typeof s !== 'string' || s.length === 0 || s.length > COLOR_MAX) return false;
  if (s[0] === '#') return HEX_COLOR.test(s);
  return COLOR_NAMES.has(s.toLowerCase());
}

/** s as #rrggbb when it is #rgb or #rrggbb (for <input type=color>), else null. */
export function hexColor(s) {
  if (typeof s !== 'string' || !HEX_COLOR.test(s)) return null;
  const h = s.toLowerCase();
  return h.length === 7 ? h : `#${h[1]}${h[1]}${h[2]}${h[2]}${h[3]}${h[3]}`;
}

const isString = (v) => typeof v === 'string';
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isCount = (v) => Number.isSafeInteger(v) && v >= 0;

/**
 * A signal's data as the server may pass it on (an offer or answer with a
 * string sdp, or a string candidate), copied field by field so that
 * nothing but what WebRTC needs reaches RTCPeerConnection; else null.
 */
export function checkSignalData(d) {
  if (!isObject(d)) return null;
  if ((d.type === 'offer' || d.type === 'answer') && isString(d.sdp)) {
    return { type: d.type, sdp: d.sdp };
  }
  if (isString(d.candidate) && d.type === undefined) {
    const c = { candidate: d.candidate };
    if (isString(d.sdpMid) || d.sdpMid === null) c.sdpMid = d.sdpMid;
    if (isCount(d.sdpMLineIndex) || d.sdpMLineIndex === null) c.sdpMLineIndex = d.sdpMLineIndex;
    if (isString(d.usernameFragment) || d.usernameFragment === null) c.usernameFragment = d.usernameFragment;
    if (c.sdpMid === undefined && c.sdpMLineIndex === undefined) c.sdpMLineIndex = 0;
    return c;
  }
  return null;
}

/** ice_servers of the welcome as RTCIceServer objects; bad entries left out. */
function checkIceServers(list) {
  if (!Array.isArray(list)) return [];
  const ok = (u) => isString(u) && /^(?:stuns?|turns?):/i.test(u) && u.length <= 512;
  const out = [];
  for (const s of list.slice(0, 16)) {
    if (!isObject(s)) continue;
    const urls = Array.isArray(s.urls) ? s.urls.filter(ok) : (ok(s.urls) ? s.urls : null);
    if (urls === null || (Array.isArray(urls) && urls.length === 0)) continue;
    const server = { urls };
    if (isString(s.username)) server.username = s.username;
    if (isString(s.credential)) server.credential = s.credential;
    out.push(server);
  }
  return out;
}

// Per type: the checked copy of an event's own fields, or null.  Every
// event also gets time and history (below).
const DECODERS = {
  welcome(e) {
    if (!isString(e.room) || e.room === '' || !isName(e.name)) return null;
    const max = isObject(e.limits) && isCount(e.limits.max_message_bytes) && e.limits.max_message_bytes > 0
      ? e.limits.max_message_bytes : null;
    return {
      room: e.room,
      name: e.name,
      color: isColor(e.color) ? e.color : null,
      maxMessageBytes: max,
      iceServers: checkIceServers(e.ice_servers),
      // "relay": the TURN servers only (ICE_TRANSPORT_POLICY of the server).
      iceTransportPolicy: e.ice_transport_policy === 'relay' ? 'relay' : 'all',
      // The room's topic, set by a moderator; '' when it has none.
      topic: isString(e.topic) ? e.topic : '',
    };
  },
  history_end: () => ({}),
  join: (e) => (isName(e.name) ? { name: e.name } : null),
  quit: (e) => (isName(e.name) ? { name: e.name } : null),
  users(e) {
    if (!Array.isArray(e.users)) return null;
    const users = [];
    const seen = new Set();
    for (const u of e.users) {
      if (!isObject(u) || !isName(u.name) || seen.has(u.name)) continue;
      seen.add(u.name);
      users.push({ name: u.name, color: isColor(u.color) ? u.color : null, verified: u.verified === true });
    }
    return { users };
  },
  message(e) {
    if (!isName(e.from) || !isString(e.text)) return null;
    return { from: e.from, color: isColor(e.color) ? e.color : null, text: e.text };
  },
  whisper(e) {
    if (!isName(e.from) || !isName(e.to) || !isString(e.text)) return null;
    return { from: e.from, to: e.to, text: e.text };
  },
  signal(e) {
    const data = checkSignalData(e.data);
    return isName(e.from) && data ? { from: e.from, data } : null;
  },
  command(e) {
    if (!isName(e.from) || !isString(e.text)) return null;
    const command = isString(e.command) ? e.command : 'unknown';
    const r = isObject(e.result) ? e.result : {};
    const result = {};
    if (command === 'color' && isColor(r.color)) result.color = r.color;
    if (command === 'dice') {
      for (const k of ['count', 'sides', 'again']) if (isCount(r[k])) result[k] = r[k];
      if (Array.isArray(r.values) && r.values.every(isCount)) result.values = r.values.slice();
    }
    return { from: e.from, command, text: e.text, result };
  },
  notice: (e) => (isName(e.from) && isName(e.to) ? { from: e.from, to: e.to } : null),
  // A moderator's actions (docs/protocol.md, Moderation).
  kick(e) {
    if (!isName(e.from) || !isName(e.name)) return null;
    return { from: e.from, name: e.name, reason: isString(e.reason) ? e.reason : '' };
  },
  mute(e) {
    if (!isName(e.from) || !isName(e.name) || !isCount(e.minutes)) return null;
    return { from: e.from, name: e.name, minutes: e.minutes };
  },
  topic: (e) => (isName(e.from) && isString(e.text) ? { from: e.from, text: e.text } : null),
  line: (e) => (isString(e.text) ? { text: e.text } : null),
  error(e) {
    if (!isString(e.code)) return null;
    return { code: e.code, message: isString(e.message) ? e.message : e.code };
  },
};

/** The types of event that come from the room log (and can be history). */
export const LOG_TYPES = new Set(['join', 'quit', 'users', 'message', 'command', 'notice', 'line',
  'kick', 'mute', 'topic']);

/**
 * One line of the server as a checked event, or null when it is not one
 * this client understands.  The result has type, time (the server's
 * ISO 8601 string, or null when it had none that parses), history (a
 * boolean) and the fields of its type.
 */
export function decodeEvent(line) {
  if (typeof line !== 'string') return null;
  let e;
  try {
    e = JSON.parse(line);
  } catch {
    return null;
  }
  if (!isObject(e) || !isString(e.type) || !Object.hasOwn(DECODERS, e.type)) return null;
  const fields = DECODERS[e.type](e);
  if (!fields) return null;
  const time = isString(e.time) && TIME_RE.test(e.time) && !Number.isNaN(Date.parse(e.time)) ? e.time : null;
  return { type: e.type, time, history: e.history === true && LOG_TYPES.has(e.type), ...fields };
}

// ---- requests ---------------------------------------------------------------

/** {"type":"message","text":…}: said in the room, whatever it looks like. */
export const encodeMessage = (text) => JSON.stringify({ type: 'message', text });

/** {"type":"whisper","to":…,"text":…}: to one member alone. */
export const encodeWhisper = (to, text) => JSON.stringify({ type: 'whisper', to, text });

/** {"type":"command","text":"/…"}. */
export const encodeCommand = (text) => JSON.stringify({ type: 'command', text });

/**
 * {"type":"signal","to":…,"data":…}, or null when data is not signalling
 * the server would pass on (docs/protocol.md: an offer or answer with a
 * string sdp, or a string candidate; at most 64 KiB written compact).
 */
export function encodeSignal(to, data) {
  const d = checkSignalData(data);
  if (!d || !isName(to)) return null;
  if (utf8Length(JSON.stringify(d)) > SIGNAL_MAX_BYTES) return null;
  return JSON.stringify({ type: 'signal', to, data: d });
}

// The old browser client writes each CRLF of an SDP as the word "zalomeni"
// (its server read lines with the shell's read, which ate backslashes).  A
// JSON client gets old clients' descriptions that way and writes its own so,
// and then both kinds understand it.
const CRLF_WORD = 'zalomeni';

/** An SDP as it goes on the wire. */
export const sdpToWire = (sdp) => sdp.replace(/\r\n/g, CRLF_WORD);

/** An SDP from the wire, with its line ends back. */
export const sdpFromWire = (sdp) => sdp.split(CRLF_WORD).join('\r\n');

/** Dice values as the /dice command's text, or null unless three counts. */
export function diceCommand(count, sides, again) {
  const n = [count, sides, again].map((v) => (typeof v === 'string' && /^\d{1,9}$/.test(v.trim()) ? v.trim() : null));
  if (n.includes(null)) return null;
  return `/dice ${n[0].replace(/^0+(?=\d)/, '')} ${n[1].replace(/^0+(?=\d)/, '')} ${n[2].replace(/^0+(?=\d)/, '')}`;
}

/** The /color command for a colour chat_server accepts, else null. */
export const colorCommand = (c) => (isColor(c) ? `/color ${c}` : null);
