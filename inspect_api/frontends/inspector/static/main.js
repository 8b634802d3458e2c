// The inspector's app: routes, the header (network, sync badge), banners (offline, session,
// storage, new version) and the sync triggers. Screens live in views.js and inspect.js.

import { loadSession, onSessionChange } from "./api.js";
import { app, go, kick, toast } from "./app.js";
import * as data from "./data.js";
import { fmtBytes, h, replace } from "./dom.js";
import * as inspect from "./inspect.js";
import * as store from "./store.js";
import * as sync from "./sync.js";
import * as views from "./views.js";

const view = document.getElementById("view");
const banners = document.getElementById("banners");

// ------------------------------------------------------------------ routes

function route() {
  const hash = location.hash.replace(/^#/, "");
  const [path, query = ""] = hash.split("?");
  const parts = path.split("/").filter(Boolean).map((p) => decodeURIComponent(p));
  const params = Object.fromEntries(new URLSearchParams(query));
  return { parts, params };
}

/** A poster's link (/app/#checkin?p=<public id>&t=<token>) opened by the phone's camera. */
function takeHandoff(params) {
  if (!params.t) return;
  app.handoff = { publicId: params.p || null, payload: params.t };
  sessionStorage.setItem("handoff", JSON.stringify(app.handoff));
}

async function useHandoff() {
  const handoff = app.handoff;
  let list = await store.assignments();
  const match = () => list.filter((a) => a.institution_public_id === handoff.publicId
    && a.status !== "submitted" && a.status !== "cancelled");
  if (!match().length && navigator.onLine !== false) {
    try {
      list = await data.refreshAssignments();
    } catch (error) {
      toast(views.explain(error), "error");
    }
  }
  const found = match().sort((a, b) => String(a.due_date).localeCompare(String(b.due_date)));
  app.handoff = null;
  sessionStorage.removeItem("handoff");
  if (!found.length) {
    return h("section", {}, h("h1", {}, "扫码签到"),
      h("p", { class: "warn" }, "您没有该机构的待检查任务。请确认扫描的是本次检查机构的二维码。"),
      h("a", { class: "button", href: "#home" }, "返回任务列表"));
  }
  const aid = found[0].id;
  app.poster.set(aid, { payload: handoff.payload, token: handoff.payload, publicId: handoff.publicId });
  if (!(await store.bundle(aid))) {
    try {
      await data.download(aid);
    } catch (error) {
      toast(`离线包未能下载：${views.explain(error)}`, "error");
    }
  }
  location.replace(`#a/${aid}/checkin`);
  return null;
}

async function screen() {
  const { parts, params } = route();
  if (parts[0] === "checkin") takeHandoff(params);
  if (!app.session) return views.loginView();
  if (parts[0] === "login") return views.loginView();
  if (app.handoff && (parts[0] === "checkin" || parts[0] === "handoff")) return useHandoff();
  if (!parts.length || parts[0] === "home") return views.homeView();
  if (parts[0] === "sync") return views.syncView();
  if (parts[0] === "a" && parts[1]) {
    const aid = parts[1];
    if (!parts[2]) return inspect.overviewView(aid);
    if (parts[2] === "checkin") return inspect.checkinView(aid);
    if (parts[2] === "s") return inspect.sectionView(aid, parts[3] || 0);
    if (parts[2] === "sign") return inspect.signView(aid);
    if (parts[2] === "submit") return inspect.submitView(aid);
  }
  return views.notFoundView();
}

let drawing = 0;
async function render() {
  const mine = ++drawing;
  app.live = null;
  inspect.releaseUrls();
  let node;
  try {
    node = await screen();
  } catch (error) {
    node = h("section", {}, h("h1", {}, "出错了"), h("p", { class: "error" }, views.explain(error)),
      h("a", { class: "button", href: "#home" }, "返回任务列表"));
  }
  if (mine !== drawing || !node) return;
  replace(view, node);
  document.body.dataset.route = route().parts.join("/") || "home";
  window.scrollTo(0, 0);
  await chrome();
}
app.render = render;
let chromeTimer = null;
app.chrome = () => { // coalesce the many small redraw requests of one screen
  clearTimeout(chromeTimer);
  chromeTimer = setTimeout(chrome, 100);
};

// ------------------------------------------------------------------ header and banners

function banner(id, kind, ...content) {
  let box = document.getElementById(id);
  if (!content.length) {
    if (box) box.remove();
    return;
  }
  if (!box) {
    box = h("div", { id, class: `banner ${kind}`, role: kind === "error" ? "alert" : "status" });
    banners.prepend(box);
  }
  replace(box, ...content);
}

let estimateAt = 0;
async function chrome() {
  const unsent = await store.unsentCount();
  const badge = document.getElementById("badge");
  badge.hidden = unsent === 0;
  replace(badge, String(unsent));
  document.getElementById("sync-link").setAttribute("aria-label", unsent ? `同步队列，${unsent} 条未上传` : "同步队列，全部已上传");
  const offline = navigator.onLine === false || sync.status.offline;
  replace(document.getElementById("net"), offline ? "离线" : "在线");
  document.getElementById("net").className = `net ${offline ? "off" : "on"}`;
  banner("b-offline", "info", ...(offline && app.session ? ["当前没有网络：填写、照片和签名都保存在本机，联网后自动上传。"] : []));
  const session = app.session;
  banner("b-session", "error", ...(session && session.expired ? [
    `${session.expired_message || "登录已过期"}。未上传的 ${unsent} 条记录已保留。`,
    h("a", { class: "button", href: "#login" }, "重新登录")] : []));
  if (Date.now() - estimateAt > 10000) {
    estimateAt = Date.now();
    app.estimate = await store.estimate();
  }
  const est = app.estimate;
  banner("b-storage", "error", ...(store.lowOnSpace(est) ? [
    `手机存储空间即将用尽（剩余 ${fmtBytes(est.free)}）。已保存的记录不会丢失，但新照片可能无法保存：请尽快联网同步，或清理手机空间。`] : []));
  banner("b-update", "info", ...(app.swWaiting ? ["新版本已下载。完成手头的填写后点“更新”，本机记录不受影响。",
    h("button", { type: "button", class: "primary", id: "apply-update", onclick: applyUpdate }, "更新")] : []));
}

// ------------------------------------------------------------------ service worker and updates

let reloading = false;
function applyUpdate() {
  if (!app.swWaiting) return;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (!reloading) {
      reloading = true;
      location.reload();
    }
  });
  app.swWaiting.postMessage({ type: "skip-waiting" });
}

let workerTries = 0;
let workerWatched = false;

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  try {
    const registration = await navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" });
    const waiting = () => {
      // a waiting worker while another controls this page is a new version: offer it, never force it
      if (registration.waiting && navigator.serviceWorker.controller) {
        app.swWaiting = registration.waiting;
        chrome();
      }
    };
    const watch = (worker) => {
      if (!worker) return;
      worker.addEventListener("statechange", () => {
        if (worker.state === "installed") waiting();
        if (worker.state === "redundant" && !registration.active) {
          // the first install failed (a shell file did not arrive): not offline-ready yet, try again
          workerTries += 1;
          setTimeout(registerWorker, Math.min(300000, 5000 * 2 ** workerTries));
        }
      });
    };
    waiting();
    watch(registration.installing);
    registration.addEventListener("updatefound", () => watch(registration.installing));
    app.registration = registration;
    if (!navigator.serviceWorker.controller) {
      // A page that opened while the first worker was still installing is not among the pages the worker
      // claimed on activation: once it is active, ask it to claim this one too, or the page would not be
      // offline-ready until it is opened again.
      navigator.serviceWorker.ready.then((ready) => {
        if (!navigator.serviceWorker.controller && ready.active) ready.active.postMessage({ type: "claim" });
      });
    }
    if (!workerWatched) {
      workerWatched = true;
      window.addEventListener("online", () => app.registration && app.registration.update().catch(() => null));
      setInterval(() => app.registration && app.registration.update().catch(() => null), 30 * 60 * 1000);
    }
  } catch (error) {
    toast(`离线功能未能启用：${error.message}`, "error");
    workerTries += 1;
    setTimeout(registerWorker, Math.min(300000, 5000 * 2 ** workerTries));
  }
}

// ------------------------------------------------------------------ boot

async function boot() {
  const stored = sessionStorage.getItem("handoff");
  if (stored) app.handoff = JSON.parse(stored);
  await store.recoverInterrupted();
  await store.pruneSettled();
  app.session = await loadSession();
  onSessionChange((session) => {
    app.session = session;
    chrome();
  });
  const refreshed = new Map();
  sync.onChange(async ({ phase, touched }) => {
    if (phase !== "end") return;
    if (touched && touched.length && app.session && !app.session.expired && navigator.onLine !== false) {
      // the server's view (check-in, signatures, teammates' answers): after a round, at most every 15 s
      for (const aid of touched) {
        if (Date.now() - (refreshed.get(aid) || 0) < 15000) continue;
        refreshed.set(aid, Date.now());
        await data.refreshInspection(aid).catch(() => null);
      }
    }
    await chrome();
    if (app.live) await app.live();
  });
  window.addEventListener("hashchange", render);
  window.addEventListener("online", () => { chrome(); sync.retryAllNow(); });
  window.addEventListener("offline", () => chrome());
  document.addEventListener("visibilitychange", () => { if (!document.hidden) kick(0); });
  setInterval(async () => {
    await chrome();
    const due = await sync.nextDue();
    if (due !== null && due <= Date.now() && !sync.status.running) sync.syncNow();
  }, 2000);
  await render();
  performance.mark("app-ready"); // the first screen is drawn (bench/app_shell.py reads it)
  registerWorker();
  kick(0);
}

boot();
export { go };
