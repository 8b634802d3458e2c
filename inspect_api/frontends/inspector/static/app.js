// Shared state of the running app and the small services every screen uses.

import { h, replace } from "./dom.js";
import * as sync from "./sync.js";

export const app = {
  session: null, // {user, access_token, refresh_token, expired, ...}
  handoff: null, // {publicId, payload} from the poster's link, until used
  poster: new Map(), // aid -> scanned poster {payload, publicId}
  live: null, // the current screen's refresh (called after sync rounds; must not disturb inputs)
  render: null, // redraw the current route
  chrome: null, // redraw the header and banners (the unsent badge)
  estimate: null,
  swWaiting: null,
};

let toastTimer = null;

/** A short message under the header (role=status, read out by screen readers). */
export function toast(message, kind = "info") {
  const box = document.getElementById("toast") || document.getElementById("banners").appendChild(h("p", { id: "toast" }));
  box.className = `toast ${kind}`;
  replace(box, message);
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 9000 : 4000);
}

export function go(hash) {
  if (location.hash === hash) app.render();
  else location.hash = hash;
}

/** Ask for a sync round soon (after a local write). */
let kickTimer = null;
export function kick(delay = 300) {
  clearTimeout(kickTimer);
  kickTimer = setTimeout(() => sync.syncNow(), delay);
}

export function me() {
  return app.session && app.session.user;
}

export function myInspectorId() {
  return me() ? me().inspector_id : null;
}
