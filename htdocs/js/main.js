// The chat page's client: finds the parts of <main id="chat"> (docs/web.md,
// "The chat page's structure") and wires the modules together.  The
// modules do the work; this file only says what follows from what.

import { encodeCommand, encodeMessage, encodeWhisper } from './protocol.js';
import { mentions } from './markup.js';
import { Connection } from './connection.js';
import { MessageList } from './render.js';
import { UserList } from './users.js';
import { setupComposer, whisperTarget } from './composer.js';
import { Peers } from './peers.js';
import { TypingList } from './typing.js';
import { Notifier } from './notify.js';
import { setupColor, setupDice, setupEmoticons, setupUrlDialog } from './tools.js';

const root = document.getElementById('chat');
const $ = (id) => document.getElementById(id);

/** localStorage, or null where the browser forbids it. */
function storage() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/**
 * The WebSocket URL: data-ws-url when it is a ws: or wss: URL, else
 * /chat/rooms/<room> on this page's own host (where the documented Apache
 * setup proxies it to websocketd).
 */
function socketUrl() {
  const given = root.dataset.wsUrl || '';
  if (given) {
    try {
      const u = new URL(given, location.href);
      if (u.protocol === 'ws:' || u.protocol === 'wss:') return u.href;
    } catch {
      // fall through to the derived URL
    }
  }
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/chat/rooms/${encodeURIComponent(root.dataset.room || '')}`;
}

const state = {
  self: null,
  room: root.dataset.room || '',
  maxBytes: null,
  live: false, // after history_end of the current connection
  joined: false, // the current connection got its welcome
  refusal: null, // the code of the error that refused the last attempt
};

const stateBox = $('connection-state');
const toggleButton = $('disconnect');
const messages = new MessageList($('messages'), $('new-messages'));
const typing = new TypingList($('typing'));
const store = storage();

const users = new UserList($('users'), {
  storage: store,
  onWhisper: (name) => composer.whisperTo(name),
  onIgnore: (name, ignored) => {
    messages.setHiddenFrom(name, ignored);
    if (ignored) typing.set(name, '');
  },
});

const ctx = () => ({ self: state.self, colorOf: (n) => users.colorOf(n) });

/** A line of the client's own in the message list. */
function local(text, kind = 'notice', code = undefined) {
  messages.add({ type: 'local', kind, code, text, time: null, history: false }, ctx());
}

const connection = new Connection(socketUrl(), {
  onState(s, text) {
    stateBox.textContent = text;
    stateBox.dataset.state = s;
    toggleButton.textContent = s === 'disconnected' ? 'Connect' : 'Disconnect';
    root.dataset.connection = s;
  },
  onOpen() {
    state.joined = false;
  },
  onEvent: (ev) => handle(ev),
  onLost({ manual, welcomed }) {
    peers.stop();
    typing.clear();
    users.clear(); // who is there is unknown until the next join
    state.live = false;
    if (welcomed) local(manual ? 'You left the room.' : 'The connection to the room was lost.');
  },
});

const peers = new Peers({
  send: (line) => connection.send(line),
  onText: (name, text) => {
    if (!users.isIgnored(name)) typing.set(name, text);
  },
  onFailed: (name) => {
    if (!users.isIgnored(name)) {
      local(`No live typing with ${name}: the browser-to-browser connection failed. Messages still work.`,
        'notice', 'peer_failed');
    }
  },
  log: (m) => console.debug(`chat: ${m}`),
});

const notifier = new Notifier($('notifications'), store);
notifier.onRefused = () => local('Notifications are blocked for this site in your browser.');
notifier.setRoom(state.room);

/** Sends a command (the dice and colour forms); false when not connected. */
function sendCommand(text) {
  if (connection.send(encodeCommand(text))) return true;
  local('Not connected: nothing was sent.', 'error', 'offline');
  return false;
}

const composer = setupComposer({
  form: $('composer'),
  field: $('message'),
  names: () => users.names(),
  maxBytes: () => state.maxBytes,
  submit(parsed) {
    if (!connection.connected) {
      local('Not connected: your message is still in the field.', 'error', 'offline');
      return false;
    }
    for (const t of parsed.texts) {
      const line = parsed.type === 'whisper' ? encodeWhisper(parsed.to, t)
        : parsed.type === 'command' ? encodeCommand(t) : encodeMessage(t);
      connection.send(line);
    }
    return true;
  },
  refuse(why) {
    local(why.error === 'too_long'
      ? `Not sent: a line is longer than ${why.limit} bytes.`
      : `Not sent: more than ${why.limit} lines at once.`, 'error', why.error);
  },
  draft(text) {
    peers.setDraft(text, whisperTarget(text, users.names()));
  },
});

setupDice($('dice'), sendCommand);
const colorTool = setupColor($('color-form'), $('color'), sendCommand);
setupUrlDialog(root, (text) => composer.insert(text));
setupEmoticons($('emoticons'), (code) => composer.insert(code));

toggleButton.addEventListener('click', () => {
  if (connection.state === 'disconnected') connection.connect();
  else connection.disconnect();
});

/** Tells the reader about a live line while the tab is hidden. */
function notifyLine(ev, li) {
  if (!li || li.hidden || ev.history) return;
  if (ev.type === 'message' && ev.from !== state.self) {
    const mention = mentions(ev.text, state.self);
    notifier.arrived({ title: mention ? `${ev.from} mentioned you` : `${ev.from} in ${state.room}`,
      body: ev.text, important: mention });
  } else if (ev.type === 'whisper' && ev.from !== state.self) {
    notifier.arrived({ title: `${ev.from} whispers to you`, body: ev.text, important: true });
  } else if (ev.type === 'command' && ev.from !== state.self) {
    notifier.arrived({ title: `${ev.from} in ${state.room}`, body: ev.text, important: false });
  }
}

/** The room's topic in the chat head (<p id="topic">), hidden without one. */
function showTopic(text) {
  const p = $('topic');
  if (!p) return;
  p.textContent = text || '';
  p.hidden = !text;
}

function handle(ev) {
  switch (ev.type) {
    case 'welcome':
      state.joined = true;
      state.refusal = null;
      state.self = ev.name;
      state.room = ev.room;
      state.maxBytes = ev.maxMessageBytes;
      state.live = false;
      users.setSelf(ev.name);
      notifier.setRoom(ev.room);
      if (ev.color) colorTool.set(ev.color);
      messages.beginConnection();
      peers.start(ev.name, ev.iceServers, ev.iceTransportPolicy);
      showTopic(ev.topic);
      return;
    case 'history_end':
      messages.historyEnd(ev.time);
      state.live = true;
      peers.sync(users.names());
      return;
    case 'users':
      users.update(ev.users);
      if (state.self) {
        const me = ev.users.find((u) => u.name === state.self);
        if (me && me.color) colorTool.set(me.color);
      }
      if (state.live) peers.sync(users.names());
      return;
    case 'signal':
      peers.handle(ev.from, ev.data);
      return;
    case 'command':
      if (ev.result.color) users.setColor(ev.from, ev.result.color);
      break;
    case 'topic':
      if (!ev.history) showTopic(ev.text);
      break;
    case 'error':
      if (ev.code === 'unavailable' || ev.code === 'available') peers.hold(ev.code === 'unavailable');
      if (!state.joined) {
        // Refused before the join (room full, …): each retry would say it
        // again; once is enough until something else happens.
        if (ev.code === state.refusal) return;
        state.refusal = ev.code;
      }
      break;
    default:
      break;
  }
  const from = ev.from ?? null;
  const hidden = from !== null && from !== state.self && users.isIgnored(from);
  const li = messages.add(ev, ctx(), hidden);
  if (li && ev.type === 'message' && ev.from !== state.self) typing.set(ev.from, '');
  notifyLine(ev, li);
}

connection.connect();
