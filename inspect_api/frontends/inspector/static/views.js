// Screens outside one inspection: sign-in, the day's assignments, the sync queue, logout.

import { NetworkError, login, revoke } from "./api.js";
import { app, go, kick, me, toast } from "./app.js";
import * as data from "./data.js";
import { fmtBytes, fmtTime, h, replace, shortId, today } from "./dom.js";
import { destroy, getMeta } from "./idb.js";
import { ASSIGNMENT_STATUS, ENTRY_KIND, ENTRY_STATUS, RESULT } from "./labels.js";
import * as store from "./store.js";
import * as sync from "./sync.js";

function explain(error) {
  if (error instanceof NetworkError) return "无法连接服务器：请检查网络后重试";
  return error.message || String(error);
}

// ------------------------------------------------------------------ sign in

export async function loginView() {
  const owner = await getMeta("owner");
  const expired = app.session && app.session.expired;
  const unsent = await store.unsentCount();
  const message = h("p", { class: "error", role: "alert", hidden: true });
  const username = h("input", { id: "username", name: "username", autocomplete: "username", required: true,
    autocapitalize: "off", spellcheck: false, value: owner ? owner.username : "" });
  const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password",
    required: true });
  const button = h("button", { type: "submit", class: "primary" }, "登录");
  const form = h("form", { class: "card", onsubmit: async (event) => {
    event.preventDefault();
    button.disabled = true;
    message.hidden = true;
    try {
      app.session = await login(username.value.trim(), password.value);
      if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => false);
      try {
        await data.refreshAssignments();
      } catch (error) {
        toast(`任务列表未能更新：${explain(error)}`, "error");
      }
      kick(0);
      go(app.handoff ? "#handoff" : "#home");
    } catch (error) {
      replace(message, explain(error));
      message.hidden = false;
      button.disabled = false;
    }
  } },
  h("label", { for: "username" }, "用户名"), username,
  h("label", { for: "password" }, "密码"), password, button);
  return h("section", { class: "login" },
    h("h1", {}, expired ? "重新登录" : "检查人员登录"),
    expired ? h("p", { class: "warn" }, `${app.session.expired_message || "登录已过期"}。`,
      unsent ? `本机还有 ${unsent} 条记录未上传，均已保留，登录后自动发送。` : "本机记录均已保留。") : null,
    app.handoff ? h("p", { class: "info" }, "已读取机构海报上的签到码：登录后继续签到。") : null,
    form, message,
    h("p", { class: "muted" }, "登录后，任务和检查表会保存在本机，没有网络也能继续检查；联网后自动上传。"));
}

// ------------------------------------------------------------------ the day's work

function group(assignment, on) {
  if (assignment.status === "submitted" || assignment.status === "cancelled") return "done";
  if (assignment.status === "in_progress" || !assignment.due_date || assignment.due_date <= on) return "today";
  return "upcoming";
}

function team(assignment) {
  return (assignment.team_members || []).map((m) => `${m.role === "lead" ? "组长" : "组员"} ${m.name || "—"}`).join(" · ");
}

function card(assignment, kept, bytes, onDownload) {
  const downloaded = Boolean(kept);
  const state = h("p", { class: "device" }, downloaded
    ? `已下载到本机 · ${fmtBytes(bytes)} · ${fmtTime(kept.fetched_at)}` : "未下载：下载后可离线检查");
  const download = h("button", { type: "button", class: downloaded ? "secondary" : "primary", onclick: () => onDownload(download, state) },
    downloaded ? "更新离线包" : "下载离线包");
  const open = h("a", { class: `button${downloaded ? "" : " disabled"}`, href: downloaded ? `#a/${assignment.id}` : "#home",
    "aria-disabled": downloaded ? null : "true" }, "打开检查");
  return h("article", { class: "card assignment", dataset: { id: assignment.id } },
    h("h3", {}, assignment.institution_name || "（机构名称未知）"),
    h("p", { class: "address" }, assignment.institution_address || "地址未登记"),
    h("p", { class: "team" }, team(assignment)),
    h("p", { class: "meta" },
      h("span", { class: `status ${assignment.status}` }, ASSIGNMENT_STATUS[assignment.status] || assignment.status),
      h("span", {}, assignment.random ? "双随机抽查" : "专项检查"),
      h("span", {}, assignment.due_date ? `截止 ${assignment.due_date}` : "未设截止日期")),
    state, h("div", { class: "actions" }, download, open));
}

export async function homeView() {
  const user = me();
  const list = h("div", { class: "groups" });
  const note = h("p", { class: "muted", role: "status" });
  const space = h("p", { class: "space" });

  async function draw() {
    const items = await store.assignments();
    const kept = new Map((await store.bundles()).map((b) => [b.id, b]));
    const usage = await store.usageByAssignment();
    const on = today();
    const groups = { today: [], upcoming: [], done: [] };
    for (const a of items) groups[group(a, on)].push(a);
    groups.today.sort((a, b) => String(a.due_date).localeCompare(String(b.due_date)));
    groups.upcoming.sort((a, b) => String(a.due_date).localeCompare(String(b.due_date)));
    const onDownload = async (button, state) => {
      button.disabled = true;
      replace(state, "正在下载…");
      const id = button.closest("article").dataset.id;
      try {
        await data.download(id);
        toast("离线包已下载");
      } catch (error) {
        toast(`下载失败：${explain(error)}`, "error");
      }
      await draw();
    };
    const section = (key, title) => h("section", { class: "group", "aria-labelledby": `g-${key}` },
      h("h2", { id: `g-${key}` }, `${title}（${groups[key].length}）`),
      groups[key].length ? groups[key].map((a) => card(a, kept.get(a.id), usage.get(a.id), onDownload))
        : h("p", { class: "muted" }, "暂无"));
    replace(list, section("today", "今日"), section("upcoming", "即将进行"), section("done", "已完成"));
    const total = [...usage.values()].reduce((a, b) => a + b, 0);
    const est = await store.estimate();
    replace(space, `本机检查数据 ${fmtBytes(total)}`, est && est.quota ? ` · 手机可用空间 ${fmtBytes(est.free)}` : "");
    const listed = items.length ? Math.max(...items.map((a) => a.listed_at || 0)) : null;
    replace(note, listed ? `任务列表更新于 ${fmtTime(listed)}` : "尚未取得任务列表");
  }

  const refresh = h("button", { type: "button", class: "secondary", onclick: async () => {
    refresh.disabled = true;
    try {
      await data.refreshAssignments();
      toast("任务列表已更新");
    } catch (error) {
      toast(`无法更新任务列表：${explain(error)}（显示本机保存的列表）`, "error");
    }
    refresh.disabled = false;
    await draw();
  } }, "刷新任务");
  const downloadAll = h("button", { type: "button", class: "secondary", onclick: async () => {
    downloadAll.disabled = true;
    const open = (await store.assignments()).filter((a) => a.status !== "submitted" && a.status !== "cancelled");
    let ok = 0;
    for (const a of open) {
      try {
        await data.download(a.id);
        ok += 1;
      } catch (error) {
        toast(`${a.institution_name}：${explain(error)}`, "error");
        if (error instanceof NetworkError) break;
      }
    }
    toast(`已下载 ${ok} 个离线包`);
    downloadAll.disabled = false;
    await draw();
  } }, "全部下载");

  await draw();
  app.live = draw;
  return h("section", { class: "home" },
    h("h1", {}, "我的检查任务"),
    h("p", { class: "who" }, `检查人员：${user.display_name || user.username}`),
    h("div", { class: "actions" }, refresh, downloadAll), note, space, list,
    logoutPanel());
}

// ------------------------------------------------------------------ logout

function logoutPanel() {
  const panel = h("div", { class: "card logout", hidden: true });
  const start = h("button", { type: "button", class: "link", onclick: async () => {
    const unsent = await store.unsentCount();
    replace(panel,
      h("p", { class: unsent ? "warn" : "" }, unsent
        ? `本机还有 ${unsent} 条记录未上传到服务器。退出登录会清除本机的全部检查数据，包括这些未上传的记录，无法恢复。`
        : "退出登录会清除本机保存的任务、检查表、照片和登录信息。"),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "danger", onclick: logout }, unsent ? "仍然退出并清除本机数据" : "退出并清除本机数据"),
        h("button", { type: "button", class: "secondary", onclick: () => { panel.hidden = true; } }, "取消")));
    panel.hidden = false;
  } }, "退出登录");
  return h("div", { class: "logout-area" }, start, panel);
}

async function logout() {
  await revoke();
  await destroy();
  sessionStorage.clear();
  app.session = null;
  app.handoff = null;
  app.poster.clear();
  toast("已退出，本机数据已清除");
  go("#login");
}

// ------------------------------------------------------------------ the sync queue

function target(entry, bundles) {
  const bundle = bundles.get(entry.aid);
  const name = bundle ? bundle.data.institution.name : "";
  if (entry.kind === "response" || entry.kind === "photo") {
    let text = entry.item_id;
    if (bundle) {
      for (const section of bundle.data.checklist.content.sections) {
        const item = section.items.find((i) => i.id === entry.item_id);
        if (item) text = `${item.id} ${item.text}`;
      }
    }
    return `${name} · ${text}`;
  }
  if (entry.kind === "signature") return `${name} · ${entry.payload.signer_name}`;
  return name;
}

function answerText(value) {
  if (!value) return "（无）";
  const codes = (value.deduction_codes || []).join("、");
  return `${RESULT[value.result] || value.result}${codes ? `（扣分项 ${codes}）` : ""}${value.note ? `；备注：${value.note}` : ""}`;
}

function conflictPanel(entry, redraw) {
  const server = entry.server || {};
  const choose = (choice) => async () => {
    await store.resolveConflict(entry.seq, choice);
    toast(choice === "mine" ? "已保留我的版本，将重新上传" : "已采用服务器的版本");
    kick(0);
    await redraw();
  };
  return h("div", { class: "conflict" },
    h("div", { class: "versions" },
      h("div", { class: "version mine" }, h("strong", {}, "我的版本"), h("p", {}, answerText(entry.payload))),
      h("div", { class: "version theirs" }, h("strong", {}, `服务器版本（第 ${server.revision} 版，${fmtTime(server.updated_at)}）`),
        h("p", {}, answerText(server)))),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "primary", dataset: { choice: "mine" }, onclick: choose("mine") }, "保留我的"),
      h("button", { type: "button", class: "secondary", dataset: { choice: "server" }, onclick: choose("server") }, "采用服务器的")));
}

function entryView(entry, bundles, redraw) {
  const retry = entry.status === "pending" && entry.next_at > Date.now()
    ? `，${Math.ceil((entry.next_at - Date.now()) / 1000)} 秒后重试` : "";
  const details = [];
  if (entry.outcome && entry.outcome.revision) details.push(`第 ${entry.outcome.revision} 版`);
  if (entry.outcome && entry.outcome.sha256) {
    details.push(`SHA-256 ${entry.outcome.sha256.slice(0, 12)}…${entry.outcome.sha_matches ? "（与本机原图一致）" : "（与本机原图不一致！）"}`);
  }
  const actions = [];
  if (entry.status === "refused" && (entry.kind === "photo" || entry.kind === "signature")) {
    actions.push(h("button", { type: "button", class: "secondary", onclick: async () => {
      await store.discard(entry.seq);
      await redraw();
    } }, "放弃此条"));
  }
  return h("li", { class: `entry ${entry.status}`, dataset: { seq: entry.seq, kind: entry.kind, status: entry.status, client: entry.client_id } },
    h("div", { class: "line" }, h("strong", {}, ENTRY_KIND[entry.kind] || entry.kind),
      h("span", { class: "state" }, ENTRY_STATUS[entry.status] || entry.status)),
    h("p", { class: "what" }, target(entry, bundles)),
    h("p", { class: "small" }, `编号 ${shortId(entry.client_id)} · 尝试 ${entry.attempts} 次${retry}`, details.length ? ` · ${details.join(" · ")}` : ""),
    entry.message ? h("p", { class: entry.status === "refused" ? "error" : "small" }, entry.message) : null,
    entry.status === "conflict" ? conflictPanel(entry, redraw) : null,
    actions.length ? h("div", { class: "actions" }, actions) : null);
}

export async function syncView() {
  const list = h("ol", { class: "outbox", id: "open-entries" });
  const done = h("div", { class: "settled" });
  const summary = h("p", { class: "summary", role: "status" });
  const space = h("p", { class: "space" });

  async function draw() {
    const entries = await store.outbox();
    const bundles = new Map((await store.bundles()).map((b) => [b.id, b]));
    const open = entries.filter((e) => store.UNSETTLED.has(e.status)).sort((a, b) => a.seq - b.seq);
    const settled = entries.filter((e) => !store.UNSETTLED.has(e.status)).sort((a, b) => b.updated_at - a.updated_at);
    replace(list, open.map((e) => entryView(e, bundles, draw)));
    replace(done, settled.length ? h("details", {}, h("summary", {}, `已完成的记录（${settled.length}，保留 7 天）`),
      h("ol", { class: "outbox" }, settled.slice(0, 200).map((e) => entryView(e, bundles, draw)))) : null);
    const counts = {};
    for (const e of open) counts[e.status] = (counts[e.status] || 0) + 1;
    const parts = Object.entries(counts).map(([k, n]) => `${ENTRY_STATUS[k]} ${n}`);
    replace(summary, open.length ? `未上传 ${open.length} 条（${parts.join("，")}）` : "全部记录已上传到服务器",
      sync.status.lastRun ? ` · 上次同步 ${fmtTime(sync.status.lastRun)}` : "");
    if (app.chrome) app.chrome();
    const est = await store.estimate();
    replace(space, est && est.quota ? `本机已用 ${fmtBytes(est.usage)}，可用 ${fmtBytes(est.free)}` : "无法读取本机存储用量",
      store.lowOnSpace(est) ? h("strong", { class: "warn" }, " 存储空间即将用尽") : "");
  }

  await draw();
  app.live = draw;
  return h("section", { class: "sync" },
    h("h1", {}, "同步队列"),
    h("p", { class: "muted" }, "每一条填写、照片、签名和提交都先保存在本机，再按顺序上传；断网时自动等待并重试，服务器确认后才算完成。"),
    summary,
    h("div", { class: "actions" }, h("button", { type: "button", class: "primary", id: "sync-now", onclick: async () => {
      await sync.retryAllNow();
      await draw();
    } }, "立即同步")),
    list, done, space);
}

export function notFoundView(message) {
  return h("section", {}, h("h1", {}, "找不到页面"), h("p", {}, message || "链接无效。"), h("a", { href: "#home", class: "button" }, "返回任务列表"));
}

export { explain };
