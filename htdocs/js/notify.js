// Telling the reader about new lines while the tab is hidden: the count in
// the tab's title ("(3) lobby – chat"), reset when the tab is shown again,
// and desktop notifications once the reader has turned them on with the
// "Enable notifications" button (the permission is asked on that click:
// browsers ignore or punish a request without one).

const ENABLED_KEY = 'chat.notifications';
const BODY_MAX = 200;

/** The tab title for a room with n unread lines. */
export function titleFor(room, n) {
  const base = `${room} – chat`;
  return n > 0 ? `(${n}) ${base}` : base;
}

export class Notifier {
  /**
   * button: "Enable notifications" (a toggle, aria-pressed); storage:
   * localStorage or null.  Set onRefused to hear of a refused permission.
   */
  constructor(button, storage) {
    this.button = button;
    this.storage = storage;
    this.room = '';
    this.unread = 0;
    this.supported = typeof Notification === 'function';
    let wanted = false;
    try {
      wanted = storage?.getItem(ENABLED_KEY) === '1';
    } catch {
      // no storage: off until clicked
    }
    this.enabled = this.supported && wanted && Notification.permission === 'granted';
    this.show();
    button.addEventListener('click', () => this.toggle());
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) {
        this.unread = 0;
        this.title();
      }
    });
  }

  setRoom(room) {
    this.room = room;
    this.title();
  }

  title() {
    if (this.room) document.title = titleFor(this.room, this.unread);
  }

  show() {
    this.button.setAttribute('aria-pressed', String(this.enabled));
    if (!this.supported) {
      this.button.disabled = true;
      this.button.title = 'This browser has no desktop notifications';
    }
  }

  save() {
    try {
      this.storage?.setItem(ENABLED_KEY, this.enabled ? '1' : '0');
    } catch {
      // the choice holds for this page only
    }
  }

  /** The button: on (asking for the permission first when needed) or off. */
  async toggle() {
    if (!this.supported) return;
    if (this.enabled) {
      this.enabled = false;
    } else {
      let p = Notification.permission;
      if (p === 'default') {
        try {
          p = await Notification.requestPermission();
        } catch {
          p = 'denied';
        }
      }
      this.enabled = p === 'granted';
      if (!this.enabled) this.onRefused?.();
    }
    this.save();
    this.show();
  }

  /**
   * A live line arrived: counts it while the tab is hidden and, when
   * notifications are on, shows it.  important: a mention or a whisper
   * to the reader (shown each, where ordinary lines replace each other).
   */
  arrived({ title, body, important }) {
    if (!document.hidden) return;
    this.unread += 1;
    this.title();
    if (!this.enabled || Notification.permission !== 'granted') return;
    const chars = Array.from(body);
    try {
      const n = new Notification(title, {
        body: chars.length > BODY_MAX ? `${chars.slice(0, BODY_MAX).join('')}…` : body,
        tag: important ? undefined : `chat-${this.room}`,
      });
      n.addEventListener('click', () => {
        window.focus();
        n.close();
      });
    } catch {
      // Some browsers (Chrome on Android) allow notifications only from a
      // service worker: the title count still tells.
    }
  }
}
