// Screens of one inspection: overview, check-in, the checklist by section, signatures, submission.

import { app, go, kick, myInspectorId, toast } from "./app.js";
import * as data from "./data.js";
import { fmtBytes, fmtTime, h, replace } from "./dom.js";
import { FLAG_REASON, METHOD, RESULT, SEVERITY, SIGNER } from "./labels.js";
import { QrError, decodePhoto, hasDetector, parsePoster, scanCamera } from "./qr.js";
import { ScoringError, appliesTo, centsText, iterItems, score } from "./scoring.js";
import { SignaturePad } from "./signature.js";
import * as store from "./store.js";
import { explain } from "./views.js";

const urls = new Set();
function objectUrl(blob) {
  const url = URL.createObjectURL(blob);
  urls.add(url);
  return url;
}
export function releaseUrls() {
  for (const url of urls) URL.revokeObjectURL(url);
  urls.clear();
}

// ------------------------------------------------------------------ context

const fetchedAt = new Map();

/** Bring the server's view of the inspection (teammates' answers, signatures) when online; at most every 10 s. */
function refreshSoon(aid) {
  if (navigator.onLine === false || !app.session || app.session.expired) return;
  if (Date.now() - (fetchedAt.get(aid) || 0) < 10000) return;
  fetchedAt.set(aid, Date.now());
  data.refreshInspection(aid).then(() => (app.live ? app.live() : null)).catch(() => null);
}

async function context(aid) {
  const kept = await store.bundle(aid);
  if (!kept) return null;
  const bundle = kept.data;
  const [inspection, answers, entries, files] = await Promise.all([
    store.inspection(aid), store.answersOf(aid), store.outboxOf(aid), store.filesOf(aid)]);
  const me = myInspectorId();
  const member = bundle.team.find((m) => m.inspector_id === me) || null;
  return { aid, kept, bundle, checklist: bundle.checklist.content, kind: bundle.institution.kind, inspection,
    server: inspection.server || null, answers, entries, files, me, member, lead: Boolean(member && member.role === "lead") };
}

function missingBundle(aid) {
  const button = h("button", { type: "button", class: "primary", onclick: async () => {
    button.disabled = true;
    try {
      await data.download(aid);
      app.render();
    } catch (error) {
      toast(`下载失败：${explain(error)}`, "error");
      button.disabled = false;
    }
  } }, "下载离线包");
  return h("section", {}, h("h1", {}, "尚未下载离线包"), h("p", {}, "打开检查前需要先在有网络时下载该任务的离线包。"), button,
    h("p", {}, h("a", { href: "#home" }, "返回任务列表")));
}

function submitted(ctx) {
  return Boolean(ctx.server && ctx.server.state === "submitted");
}

function unsettled(ctx, kind) {
  return ctx.entries.filter((e) => e.kind === kind && store.UNSETTLED.has(e.status));
}

/** The answers as the scoring engine takes them. */
function responsesOf(ctx) {
  const out = {};
  for (const [id, a] of ctx.answers) if (a.result) out[id] = { result: a.result, deductions: a.deduction_codes || [] };
  return out;
}

/** The engine's score with unanswered applicable items counted as 符合 (labelled so). */
export function provisional(ctx) {
  const responses = responsesOf(ctx);
  let assumed = 0;
  for (const [, item] of iterItems(ctx.checklist)) {
    if (!(item.id in responses) && appliesTo(item, ctx.kind)) {
      responses[item.id] = { result: "pass", deductions: [] };
      assumed += 1;
    }
  }
  try {
    return { ...score(ctx.checklist, responses, ctx.kind), assumed };
  } catch (error) {
    if (error instanceof ScoringError) return { error, assumed };
    throw error;
  }
}

/** Problems the engine finds with one item's answer (the same rules the server applies). */
function itemProblems(ctx, itemId, response) {
  try {
    score(ctx.checklist, { [itemId]: response }, ctx.kind);
    return [];
  } catch (error) {
    if (!(error instanceof ScoringError)) throw error;
    return error.problems.filter((p) => p.item === itemId && p.code !== "MISSING_RESPONSE");
  }
}

function scoreCard(ctx) {
  if (submitted(ctx) && ctx.server.result) {
    const r = ctx.server.result;
    return h("div", { class: "card score final" }, h("strong", {}, "检查结果（服务器）"),
      h("p", { class: "big" }, `${Number(r.score).toFixed(2)} 分 · ${r.grade_name}`));
  }
  const p = provisional(ctx);
  if (p.error) {
    return h("div", { class: "card score" }, h("strong", {}, "暂估得分"),
      h("p", {}, `暂时无法计算：${p.error.problems.map((x) => x.message_zh).slice(0, 3).join("；")}`));
  }
  return h("div", { class: "card score", id: "provisional" }, h("strong", {}, "暂估得分"),
    h("p", { class: "big" }, h("span", { class: "value" }, centsText(p.score)), " 分 · ", h("span", { class: "grade" }, p.grade_name)),
    h("p", { class: "small" }, p.assumed ? `尚有 ${p.assumed} 项未填，暂按“符合”计。` : "全部项目已填写。",
      `扣分项目 ${p.findings.length} 个${p.veto_failed.length ? "，含一票否决项" : ""}。暂估按服务器的评分规则在本机计算，以提交后服务器的结果为准。`));
}

function checkinSummary(ctx) {
  const server = ctx.server && ctx.server.checkin;
  if (server) {
    const reasons = (server.flag_reasons || []).map((r) => FLAG_REASON[r] || r).join("、");
    return h("div", { class: `card checkin ${server.flagged ? "flagged" : "ok"}`, id: "checkin-state" },
      h("strong", {}, server.flagged ? "已签到（已标记）" : "已签到"),
      h("p", {}, `${fmtTime(server.received_at)} · 距机构 ${server.distance_m ?? "—"} 米（半径 ${server.radius_m} 米）`,
        server.accuracy_m !== null && server.accuracy_m !== undefined ? ` · 定位精度 ±${Math.round(server.accuracy_m)} 米` : ""),
      server.flagged ? h("p", { class: "warn" }, `服务器标记：${reasons}`) : null);
  }
  const local = unsettled(ctx, "checkin")[0];
  if (local) {
    return h("div", { class: "card checkin pending", id: "checkin-state" }, h("strong", {}, "签到已保存在本机"),
      h("p", {}, local.status === "refused" ? `被拒绝：${local.message}` : "联网后上传，由服务器核对二维码和距离。"),
      local.status === "refused" ? h("a", { class: "button", href: `#a/${ctx.aid}/checkin` }, "重新扫码签到") : null);
  }
  return h("div", { class: "card checkin none", id: "checkin-state" }, h("strong", {}, "尚未签到"),
    h("p", {}, "到达机构后，扫描门口张贴的二维码并上报定位。"),
    submitted(ctx) ? null : h("a", { class: "button primary", href: `#a/${ctx.aid}/checkin` }, "扫码签到"));
}

function sectionProgress(ctx, section) {
  const applicable = section.items.filter((i) => appliesTo(i, ctx.kind));
  const answered = applicable.filter((i) => ctx.answers.get(i.id) && ctx.answers.get(i.id).result).length;
  return { answered, total: applicable.length };
}

// ------------------------------------------------------------------ overview

export async function overviewView(aid) {
  const ctx = await context(aid);
  if (!ctx) return missingBundle(aid);
  const inst = ctx.bundle.institution;
  const sections = ctx.checklist.sections.map((section, n) => {
    const p = sectionProgress(ctx, section);
    return h("li", {}, h("a", { href: `#a/${aid}/s/${n}`, class: p.answered === p.total ? "complete" : "" },
      h("span", {}, section.title), h("span", { class: "progress" }, `${p.answered}/${p.total}`)));
  });
  const open = ctx.bundle.open_findings || [];
  const thumbs = new Map((await store.thumbsOf(aid)).map((t) => [t.id, t]));
  const previous = ctx.bundle.previous_result;
  app.live = async () => { if (!document.activeElement || document.activeElement === document.body) app.render(); };
  refreshSoon(aid);
  return h("section", { class: "overview" },
    h("h1", {}, inst.name),
    h("p", { class: "meta" }, h("span", {}, ctx.bundle.inspection.code || ""), h("span", {}, inst.kind_name),
      h("span", {}, ctx.member ? (ctx.lead ? "我是组长" : "我是组员") : "")),
    h("p", { class: "address" }, inst.address || "地址未登记",
      inst.contact_name ? ` · 联系人 ${inst.contact_name} ${inst.contact_phone || ""}` : ""),
    checkinSummary(ctx),
    scoreCard(ctx),
    h("h2", {}, `检查表：${ctx.checklist.title}`),
    h("p", { class: "small" }, `${ctx.checklist.code} 第 ${ctx.checklist.version} 版`),
    h("ol", { class: "sections" }, sections),
    h("div", { class: "actions" },
      h("a", { class: "button", href: `#a/${aid}/sign` }, "签名"),
      h("a", { class: "button", href: `#a/${aid}/submit` }, submitted(ctx) ? "查看结果" : (ctx.lead ? "提交检查" : "提交状态"))),
    previous ? h("div", { class: "card" }, h("h2", {}, "上次检查"),
      h("p", {}, `${previous.code} · ${fmtTime(previous.submitted_at)} · ${previous.score ?? "—"} 分 ${previous.grade_name || ""} · 问题 ${previous.findings} 个`)) : null,
    open.length ? h("div", { class: "card findings" }, h("h2", {}, `未整改完成的问题（${open.length}）`),
      h("ul", {}, open.map((f) => h("li", {},
        h("p", {}, `${f.item_id} ${f.item_text}`),
        h("p", { class: "small" }, `${SEVERITY[f.severity] || f.severity} · 期限 ${f.deadline || "—"} · 整改通知书 ${f.order_number || ""}`),
        h("div", { class: "thumbs" }, (f.photos || []).map((p) => thumbs.get(p.id)
          ? h("img", { src: objectUrl(thumbs.get(p.id).blob), alt: `问题照片 ${f.item_id}`, width: 96, height: 72 })
          : h("span", { class: "small" }, "（照片未下载）"))))))) : null,
    h("p", { class: "small" }, `离线包 ${fmtBytes(ctx.kept.bytes)} · 下载于 ${fmtTime(ctx.kept.fetched_at)}`));
}

// ------------------------------------------------------------------ check-in

export async function checkinView(aid) {
  const ctx = await context(aid);
  if (!ctx) return missingBundle(aid);
  const inst = ctx.bundle.institution;
  let poster = app.poster.get(aid) || null;
  let fix = null;
  const qrState = h("p", { class: "state", id: "qr-state", role: "status" });
  const gpsState = h("p", { class: "state", id: "gps-state", role: "status" });
  const confirm = h("button", { type: "button", class: "primary", id: "confirm-checkin", disabled: true }, "确认签到");
  const video = h("video", { class: "scanner", hidden: true, muted: true });

  const showPoster = () => {
    if (!poster) replace(qrState, "尚未扫描二维码");
    else replace(qrState, h("strong", {}, "已读取签到二维码"), poster.publicId ? `（机构编号 ${poster.publicId}）` : "");
    confirm.disabled = !(poster && fix);
  };
  const accept = (text) => {
    const parsed = parsePoster(text);
    if (!parsed.token) throw new QrError("二维码中没有签到码");
    if (parsed.publicId && inst.public_id && parsed.publicId !== inst.public_id) {
      throw new QrError(`这不是本次检查机构（${inst.name}）的二维码，请扫描该机构门口张贴的二维码`);
    }
    poster = parsed;
    app.poster.set(aid, parsed);
    showPoster();
  };

  const photo = h("input", { type: "file", accept: "image/*", capture: "environment", id: "qr-photo", class: "file",
    onchange: async () => {
      const chosen = photo.files[0];
      photo.value = "";
      if (!chosen) return;
      replace(qrState, "正在识别二维码…");
      try {
        accept(await decodePhoto(chosen));
      } catch (error) {
        replace(qrState, h("span", { class: "error" }, error.message));
      }
    } });
  const camera = h("button", { type: "button", class: "secondary", hidden: true, onclick: async () => {
    video.hidden = false;
    try {
      const scan = await scanCamera(video);
      replace(qrState, "请将二维码置于取景框内…");
      accept(await scan.found);
    } catch (error) {
      replace(qrState, h("span", { class: "error" }, error instanceof QrError ? error.message : `无法打开相机：${error.message}`));
    }
    video.hidden = true;
  } }, "用相机扫码");
  hasDetector().then((yes) => { camera.hidden = !yes; });

  const locate = h("button", { type: "button", class: "secondary", id: "locate", onclick: () => {
    if (!navigator.geolocation) {
      replace(gpsState, h("span", { class: "error" }, "本浏览器不支持定位"));
      return;
    }
    replace(gpsState, "正在定位…");
    navigator.geolocation.getCurrentPosition((position) => {
      const c = position.coords;
      fix = { latitude: c.latitude, longitude: c.longitude, accuracy_m: c.accuracy,
        captured_at: new Date(position.timestamp || Date.now()).toISOString() };
      replace(gpsState, h("strong", {}, `纬度 ${c.latitude.toFixed(5)}，经度 ${c.longitude.toFixed(5)}`),
        h("span", { class: "accuracy" }, `，精度 ±${Math.round(c.accuracy)} 米`), `（${fmtTime(fix.captured_at)}）`);
      confirm.disabled = !(poster && fix);
    }, (error) => {
      const reason = error.code === 1 ? "未获得定位权限：请在浏览器设置中允许本网站使用位置信息" : "暂时无法定位，请到室外或窗边重试";
      replace(gpsState, h("span", { class: "error" }, reason));
    }, { enableHighAccuracy: true, timeout: 30000, maximumAge: 0 });
  } }, "获取定位");

  confirm.addEventListener("click", async () => {
    confirm.disabled = true;
    try {
      await store.addCheckin(aid, { qr_token: poster.payload, public_id: poster.publicId, ...fix });
      app.poster.delete(aid);
      toast("签到已保存，联网后由服务器核对");
      kick(0);
      go(`#a/${aid}`);
    } catch (error) {
      toast(explain(error), "error");
      confirm.disabled = false;
    }
  });
  showPoster();
  app.live = null;
  return h("section", { class: "checkin" },
    h("h1", {}, "扫码签到"),
    h("p", {}, `${inst.name} · ${inst.address || ""}`),
    h("ol", { class: "steps" },
      h("li", {}, h("h2", {}, "1. 扫描机构门口的二维码"),
        h("p", { class: "small" }, "拍一张海报上二维码的照片，本机识别；也可以用手机相机扫码，打开页面后点“检查人员签到”。"),
        h("div", { class: "actions" }, h("label", { class: "button primary", for: "qr-photo" }, "拍摄二维码"), photo, camera),
        video, qrState),
      h("li", {}, h("h2", {}, "2. 上报当前位置"), h("div", { class: "actions" }, locate), gpsState,
        h("p", { class: "small" }, `距离机构超过 ${ctx.bundle.checkin_rules.radius_m} 米的签到会被服务器标记。`)),
      h("li", {}, h("h2", {}, "3. 确认"), confirm)),
    h("p", {}, h("a", { href: `#a/${aid}` }, "返回")));
}

// ------------------------------------------------------------------ the checklist

function photosOf(ctx, itemId) {
  const local = ctx.files.filter((f) => f.kind === "photo" && f.item_id === itemId);
  const mine = new Set(local.map((f) => f.client_id));
  const others = ((ctx.server && ctx.server.photos) || []).filter((p) => p.item_id === itemId && !mine.has(p.client_id));
  return { local, others };
}

function itemCard(ctx, item, onChange) {
  const saved = ctx.answers.get(item.id);
  const state = { result: saved ? saved.result : null, codes: saved ? [...(saved.deduction_codes || [])] : [],
    note: saved ? saved.note || "" : "" };
  const applicable = appliesTo(item, ctx.kind);
  const locked = submitted(ctx);
  const root = h("article", { class: "card item", id: `item-${item.id}`, dataset: { item: item.id } });
  const problems = h("p", { class: "error problems", role: "alert", hidden: true });
  const status = h("p", { class: "sync-state small" });
  const deductionBox = h("fieldset", { class: "deductions" });
  const photoBox = h("div", { class: "photos" });
  const conflictBox = h("div", { class: "conflict-box" });

  const choices = ["pass", "deduct", "fail", "na"].filter((r) => {
    if (r === "deduct") return (item.deductions || []).length > 0;
    if (r === "na") return Boolean(item.na_allowed) || !applicable;
    return true;
  });

  async function save() {
    const response = { result: state.result, deductions: state.codes };
    const found = itemProblems(ctx, item.id, response);
    if (found.length) {
      replace(problems, found.map((p) => p.message_zh).join("；"));
      problems.hidden = false;
      return;
    }
    problems.hidden = true;
    try {
      await store.setAnswer(ctx.aid, item.id, { result: state.result, deduction_codes: state.codes, note: state.note });
      ctx.answers.set(item.id, { ...(ctx.answers.get(item.id) || {}), result: state.result, deduction_codes: state.codes, note: state.note });
      kick();
      await refresh();
      onChange();
    } catch (error) {
      replace(problems, explain(error));
      problems.hidden = false;
    }
  }

  const buttons = choices.map((r) => h("button", { type: "button", class: `choice ${r}`, dataset: { result: r },
    "aria-pressed": String(state.result === r), disabled: locked || (!applicable && r !== "na"),
    onclick: () => {
      state.result = r;
      if (r === "pass" || r === "na") state.codes = [];
      drawDeductions();
      for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.result === r));
      save();
    } }, RESULT[r]));

  function drawDeductions() {
    const show = (state.result === "deduct" || state.result === "fail") && (item.deductions || []).length;
    deductionBox.hidden = !show;
    if (!show) return;
    replace(deductionBox, h("legend", {}, state.result === "fail" ? "不符合的原因（可选）" : "扣分项"),
      item.deductions.map((d) => {
        const count = state.codes.filter((c) => c === d.code).length;
        const id = `d-${item.id}-${d.code}`;
        const box = h("input", { type: "checkbox", id, checked: count > 0, disabled: locked, dataset: { code: d.code },
          onchange: () => {
            state.codes = state.codes.filter((c) => c !== d.code);
            if (box.checked) state.codes.push(d.code);
            drawDeductions();
            save();
          } });
        const stepper = d.repeatable && count > 0 ? h("span", { class: "stepper" },
          h("button", { type: "button", "aria-label": "减少一处", disabled: locked, onclick: () => {
            const at = state.codes.lastIndexOf(d.code);
            if (at >= 0 && count > 1) state.codes.splice(at, 1);
            drawDeductions();
            save();
          } }, "−"), h("span", { class: "count" }, `×${count}`),
          h("button", { type: "button", "aria-label": "增加一处", disabled: locked, onclick: () => {
            state.codes.push(d.code);
            drawDeductions();
            save();
          } }, "+")) : null;
        return h("div", { class: "deduction" }, box,
          h("label", { for: id }, `${d.code}. ${d.text}（${d.repeatable ? "每处" : ""}扣 ${d.points} 分）`), stepper);
      }));
  }

  let noteTimer = null;
  const note = h("textarea", { rows: 2, placeholder: "备注（发现的问题、位置、人员等）", disabled: locked, value: state.note,
    "aria-label": `${item.id} 备注`,
    oninput: () => {
      state.note = note.value;
      clearTimeout(noteTimer);
      if (state.result) noteTimer = setTimeout(save, 600);
    },
    onchange: () => { clearTimeout(noteTimer); state.note = note.value; if (state.result) save(); } });

  const camera = h("input", { type: "file", accept: "image/*", capture: "environment", multiple: true, class: "file",
    id: `photo-${item.id}`, disabled: locked, onchange: async () => {
      const chosen = [...camera.files];
      camera.value = ""; // taken now: the next picture starts a new selection
      for (const file of chosen) {
        try {
          await store.addPhoto(ctx.aid, item.id, file);
          toast("照片已保存在本机，正在后台上传");
        } catch (error) {
          toast(explain(error), "error");
          replace(problems, explain(error));
          problems.hidden = false;
        }
      }
      ctx.files = await store.filesOf(ctx.aid);
      ctx.entries = await store.outboxOf(ctx.aid);
      kick();
      await refresh();
    } });

  function drawPhotos() {
    const { local, others } = photosOf(ctx, item.id);
    const statusOf = new Map(ctx.entries.filter((e) => e.kind === "photo").map((e) => [e.client_id, e]));
    const need = item.evidence ? item.evidence.min_photos : 0;
    const shown = local.filter((f) => statusOf.get(f.client_id) && statusOf.get(f.client_id).status !== "discarded");
    replace(photoBox,
      h("p", { class: "small need" }, need ? `发现问题时需拍照 ${need} 张；已有 ${shown.length + others.length} 张` : `照片 ${shown.length + others.length} 张`),
      h("div", { class: "thumbs" }, shown.map((f) => {
        const e = statusOf.get(f.client_id);
        const label = { pending: "待上传", sending: "上传中", applied: "已上传", refused: "被拒绝" }[e.status] || e.status;
        return h("figure", { class: `thumb ${e.status}`, dataset: { client: f.client_id } },
          f.preview ? h("img", { src: objectUrl(f.preview), alt: `${item.id} 照片`, width: 96, height: 72 })
            : h("span", { class: "noimg" }, "无法预览"),
          h("figcaption", {}, label), e.status === "refused" ? h("span", { class: "error small" }, e.message) : null);
      }), others.length ? h("span", { class: "small" }, `另有 ${others.length} 张由同组人员上传`) : null),
      locked ? null : h("label", { class: "button secondary", for: `photo-${item.id}` }, "拍照"), camera);
  }

  function drawConflict() {
    const conflict = ctx.entries.find((e) => e.kind === "response" && e.item_id === item.id && e.status === "conflict");
    conflictBox.hidden = !conflict;
    if (!conflict) return;
    const server = conflict.server || {};
    const text = (v) => `${RESULT[v.result] || v.result}${(v.deduction_codes || []).length ? `（${v.deduction_codes.join("、")}）` : ""}${v.note ? `；${v.note}` : ""}`;
    replace(conflictBox, h("div", { class: "conflict" },
      h("strong", {}, "与服务器版本冲突：其他检查人员已修改此项"),
      h("div", { class: "versions" },
        h("div", { class: "version mine" }, h("strong", {}, "我的"), h("p", {}, text(conflict.payload))),
        h("div", { class: "version theirs" }, h("strong", {}, `服务器（第 ${server.revision} 版）`), h("p", {}, text(server)))),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", dataset: { choice: "mine" }, onclick: async () => {
          await store.resolveConflict(conflict.seq, "mine");
          kick(0);
          await refresh(true);
        } }, "保留我的"),
        h("button", { type: "button", class: "secondary", dataset: { choice: "server" }, onclick: async () => {
          await store.resolveConflict(conflict.seq, "server");
          await refresh(true);
        } }, "采用服务器的"))));
  }

  function drawStatus() {
    const mine = ctx.entries.filter((e) => e.kind === "response" && e.item_id === item.id);
    const open = mine.filter((e) => store.UNSETTLED.has(e.status));
    const answer = ctx.answers.get(item.id);
    let text = "未填写";
    if (open.some((e) => e.status === "refused")) text = `被服务器拒绝：${open.find((e) => e.status === "refused").message}`;
    else if (open.some((e) => e.status === "conflict")) text = "冲突：请选择保留哪个版本";
    else if (open.length) text = "已保存在本机 · 待上传";
    else if (answer && answer.server) text = `已同步到服务器（第 ${answer.server.revision} 版）`;
    else if (answer && answer.result) text = "已保存在本机";
    replace(status, text);
    root.dataset.sync = open.length ? open[open.length - 1].status : (answer && answer.server ? "synced" : "none");
  }

  async function refresh(reloadAnswer = false) {
    ctx.entries = await store.outboxOf(ctx.aid);
    ctx.files = await store.filesOf(ctx.aid);
    if (reloadAnswer) {
      ctx.answers = await store.answersOf(ctx.aid);
      const a = ctx.answers.get(item.id);
      if (a) {
        state.result = a.result;
        state.codes = [...(a.deduction_codes || [])];
        state.note = a.note || "";
        note.value = state.note;
        for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.result === state.result));
        drawDeductions();
      }
      onChange();
    }
    drawStatus();
    drawPhotos();
    drawConflict();
    if (app.chrome) app.chrome();
  }

  const methods = [].concat(item.method || []).map((m) => METHOD[m] || m).join("、");
  replace(root,
    h("header", {}, h("span", { class: "id" }, item.id), h("span", { class: "points" }, `${item.points} 分`),
      h("span", { class: `sev ${item.severity}` }, SEVERITY[item.severity]), item.veto ? h("span", { class: "veto" }, "一票否决") : null),
    h("p", { class: "text" }, item.text),
    h("p", { class: "basis small" }, `依据：${ctx.bundle.checklist.content.standard ? ctx.bundle.checklist.content.standard.code : ""} ${item.clause || ""}`,
      methods ? ` · 方法：${methods}` : ""),
    item.guidance ? h("p", { class: "guidance small" }, item.guidance) : null,
    applicable ? null : h("p", { class: "small warn" }, "本项不适用于该机构类型，只能选择“不适用”。"),
    h("div", { class: "choices", role: "group", "aria-label": `${item.id} 检查结果` }, buttons),
    deductionBox, note, problems, conflictBox, photoBox, status);
  drawDeductions();
  drawStatus();
  drawPhotos();
  drawConflict();
  root.refresh = refresh;
  return root;
}

export async function sectionView(aid, index) {
  const ctx = await context(aid);
  if (!ctx) return missingBundle(aid);
  const n = Number(index);
  const section = ctx.checklist.sections[n];
  if (!section) return h("p", {}, "没有这一部分");
  const progress = h("p", { class: "progress", role: "status" });
  const scoreLine = h("p", { class: "small provisional" });
  const drawProgress = () => {
    const p = sectionProgress(ctx, section);
    replace(progress, `本部分已填 ${p.answered}/${p.total} 项`);
    const s = provisional(ctx);
    replace(scoreLine, s.error ? "" : `暂估得分 ${centsText(s.score)} 分 · ${s.grade_name}${s.assumed ? `（未填 ${s.assumed} 项按符合计）` : ""}`);
  };
  const cards = section.items.map((item) => itemCard(ctx, item, drawProgress));
  drawProgress();
  app.live = async () => {
    ctx.answers = await store.answersOf(aid);
    for (const c of cards) await c.refresh(false);
    drawProgress();
  };
  const nav = h("nav", { class: "pager" },
    n > 0 ? h("a", { href: `#a/${aid}/s/${n - 1}` }, "‹ 上一部分") : h("span"),
    h("a", { href: `#a/${aid}` }, "目录"),
    n < ctx.checklist.sections.length - 1 ? h("a", { href: `#a/${aid}/s/${n + 1}` }, "下一部分 ›") : h("a", { href: `#a/${aid}/sign` }, "去签名 ›"));
  const warn = ctx.server && ctx.server.checkin ? null : (unsettled(ctx, "checkin").length ? null
    : h("p", { class: "warn" }, "尚未签到：填写会保存在本机，签到上传后才会同步到服务器。", h("a", { href: `#a/${aid}/checkin` }, "去签到")));
  return h("section", { class: "section" },
    h("h1", {}, `${section.title}`), h("p", { class: "small" }, `${ctx.bundle.institution.name} · ${section.points} 分`),
    warn, progress, scoreLine, cards, nav);
}

// ------------------------------------------------------------------ signatures

function signedList(ctx) {
  const server = (ctx.server && ctx.server.signatures) || [];
  const known = new Set(server.map((s) => s.client_id));
  const local = ctx.entries.filter((e) => e.kind === "signature" && e.status !== "discarded" && !known.has(e.client_id));
  const state = (e) => ({ applied: "已上传", refused: `被拒绝：${e.message}` }[e.status] || "已保存在本机，待上传");
  return h("ul", { class: "signed", id: "signed" },
    server.map((s) => h("li", { class: "ok" }, `${SIGNER[s.signer_role] || s.signer_role}：${s.signer_name} · 已上传`)),
    local.map((e) => h("li", { class: e.status }, `${SIGNER[e.payload.signer_role]}：${e.payload.signer_name} · ${state(e)}`)),
    !server.length && !local.length ? h("li", {}, "还没有签名") : null);
}

function padBlock(title, id, onSave, extra) {
  const canvas = h("canvas", { class: "pad", id: `pad-${id}`, width: 340, height: 160, "aria-label": `${title}签名区` });
  const message = h("p", { class: "small", role: "status" });
  const block = h("div", { class: "card sign", id: `sign-${id}` }, h("h2", {}, title), extra || null, canvas, message);
  let pad = null;
  requestAnimationFrame(() => { pad = new SignaturePad(canvas); });
  block.append(h("div", { class: "actions" },
    h("button", { type: "button", class: "secondary", onclick: () => pad && pad.clear() }, "清除重签"),
    h("button", { type: "button", class: "primary", dataset: { save: id }, onclick: async () => {
      if (!pad || pad.isEmpty()) {
        replace(message, h("span", { class: "error" }, "请先在框内签名"));
        return;
      }
      try {
        await onSave(await pad.toBlob(), message, block);
        pad.clear();
      } catch (error) {
        replace(message, h("span", { class: "error" }, explain(error)));
      }
    } }, "保存签名")));
  return block;
}

export async function signView(aid) {
  const ctx = await context(aid);
  if (!ctx) return missingBundle(aid);
  if (!ctx.member) return h("section", {}, h("h1", {}, "签名"), h("p", {}, "您不在本次检查组中。"));
  const list = h("div", {}, signedList(ctx));
  const redraw = async () => {
    ctx.entries = await store.outboxOf(aid);
    ctx.server = (await store.inspection(aid)).server || null;
    replace(list, signedList(ctx));
  };
  app.live = redraw;
  refreshSoon(aid);
  const myRole = ctx.lead ? "lead" : "member";
  const mySigned = ((ctx.server && ctx.server.signatures) || []).some((s) => s.inspector_id === ctx.me)
    || ctx.entries.some((e) => e.kind === "signature" && e.payload.signer_role === myRole && store.UNSETTLED.has(e.status) && e.status !== "refused");
  const blocks = [];
  if (submitted(ctx)) {
    blocks.push(h("p", {}, "检查已提交，签名已锁定。"));
  } else {
    blocks.push(mySigned ? h("p", { class: "card ok" }, "我的签名已保存。") : padBlock(`我的签名（${SIGNER[myRole]} ${ctx.member.name}）`, "me",
      async (blob, _message, block) => {
        await store.addSignature(aid, myRole, ctx.member.name, blob);
        block.replaceWith(h("p", { class: "card ok", id: "my-signature-saved" }, "我的签名已保存在本机，联网后上传。"));
        kick(0);
        await redraw();
      }));
    if (ctx.lead) {
      const name = h("input", { id: "rep-name", autocomplete: "off", placeholder: "机构负责人或代表姓名", maxlength: 64 });
      blocks.push(padBlock("机构负责人/代表签名", "rep", async (blob, message) => {
        const signer = name.value.trim();
        if (!signer) throw new Error("请填写机构代表的姓名");
        await store.addSignature(aid, "institution_representative", signer, blob);
        replace(message, `${signer} 的签名已保存在本机，联网后上传`);
        name.value = "";
        kick(0);
        await redraw();
      }, h("div", {}, h("label", { for: "rep-name" }, "姓名"), name)));
    } else {
      blocks.push(h("p", { class: "small" }, "机构负责人/代表在组长的手机上签名。"));
    }
  }
  return h("section", { class: "signatures" }, h("h1", {}, "签名"),
    h("p", { class: "small" }, "每位检查人员在自己的手机上签名；机构负责人或代表在组长的手机上签名。"),
    h("h2", {}, "已有签名"), list, blocks,
    h("p", {}, h("a", { href: `#a/${aid}` }, "返回")));
}

// ------------------------------------------------------------------ submission and result

function itemText(ctx, id) {
  for (const [, item] of iterItems(ctx.checklist)) if (item.id === id) return `${id} ${item.text}`;
  return id;
}

function missingList(ctx, missing) {
  const names = new Map(ctx.bundle.team.map((m) => [m.inspector_id, m.name]));
  return h("ul", { class: "missing" },
    (missing.unanswered_items || []).map((id) => h("li", {}, `未填写：${itemText(ctx, id)}`)),
    (missing.photos_required || []).map((p) => h("li", {}, `照片不足：${itemText(ctx, p.item_id)}（需 ${p.required} 张，已上传 ${p.uploaded} 张）`)),
    (missing.signatures || []).map((s) => h("li", {}, `缺少签名：${SIGNER[s.role]}${s.inspector_id ? ` ${names.get(s.inspector_id) || ""}` : ""}`)));
}

function resultView(ctx) {
  const s = ctx.server;
  const r = s.result || {};
  const reportButton = h("button", { type: "button", class: "primary", id: "open-report", onclick: async () => {
    reportButton.disabled = true;
    try {
      let html = null;
      try {
        html = await data.report(ctx.aid);
      } catch (error) {
        html = (await store.inspection(ctx.aid)).report_html;
        if (!html) throw error;
      }
      const url = objectUrl(new Blob([html], { type: "text/html" }));
      window.open(url, "_blank");
    } catch (error) {
      toast(`无法打开报告：${explain(error)}`, "error");
    }
    reportButton.disabled = false;
  } }, "查看检查报告");
  return h("div", { class: "result", id: "result" },
    h("div", { class: "card score final" }, h("strong", {}, "检查已提交"),
      h("p", { class: "big" }, h("span", { class: "value" }, Number(r.score).toFixed(2)), " 分 · ", h("span", { class: "grade" }, r.grade_name)),
      h("p", {}, `检查编号 ${s.code} · 提交于 ${fmtTime(s.submitted_at)}`)),
    h("div", { class: "card" }, h("h2", {}, `发现的问题（${(s.findings || []).length}）`),
      (s.findings || []).length ? h("ol", { class: "findings" }, s.findings.map((f) => h("li", {},
        h("p", {}, `${f.item_id} ${f.item_text}`),
        h("p", { class: "small" }, `${SEVERITY[f.severity] || f.severity} · 扣 ${f.points_lost} 分 · 整改期限 ${f.deadline_working_days} 个工作日${f.reinspection_required ? " · 需复查" : ""}`))))
        : h("p", {}, "未发现问题。")),
    h("div", { class: "card" }, h("h2", {}, "整改通知书"),
      h("p", { id: "order-number" }, s.order_number ? `编号 ${s.order_number}` : "无需整改")),
    h("div", { class: "actions" }, reportButton,
      s.report_hash ? h("a", { class: "button secondary", href: `/p/reports/${ctx.aid}/verify?h=${s.report_hash}`, target: "_blank", rel: "noopener" }, "公开核验页") : null));
}

export async function submitView(aid) {
  const ctx = await context(aid);
  if (!ctx) return missingBundle(aid);
  const body = h("div", {});
  const title = h("h1", {}, "提交检查");
  const draw = async () => {
    const fresh = await context(aid);
    Object.assign(ctx, fresh);
    if (submitted(ctx)) {
      replace(title, "检查结果");
      replace(body, resultView(ctx));
      return;
    }
    const p = provisional(ctx);
    const total = [...iterItems(ctx.checklist)].filter(([, i]) => appliesTo(i, ctx.kind)).length;
    const answered = [...iterItems(ctx.checklist)].filter(([, i]) => appliesTo(i, ctx.kind) && ctx.answers.get(i.id) && ctx.answers.get(i.id).result).length;
    const findings = p.error ? [] : p.findings;
    const entry = ctx.entries.filter((e) => e.kind === "submit").sort((a, b) => b.seq - a.seq)[0];
    const queueOpen = ctx.entries.filter((e) => e.kind !== "submit" && store.UNSETTLED.has(e.status)).length;
    const submitButton = h("button", { type: "button", class: "primary", id: "submit", onclick: async () => {
      submitButton.disabled = true;
      await store.addSubmit(aid);
      toast("提交已排队：其余记录上传完成后自动提交");
      kick(0);
      await draw();
    } }, "提交检查结果");
    const pendingSubmit = entry && (entry.status === "pending" || entry.status === "sending");
    submitButton.disabled = Boolean(pendingSubmit);
    replace(body,
      h("div", { class: "card" }, h("h2", {}, "检查概况"),
        h("p", {}, `已填写 ${answered}/${total} 项 · 发现问题 ${findings.length} 个`),
        p.error ? null : h("p", {}, `暂估得分 ${centsText(p.score)} 分 · ${p.grade_name}（以服务器结果为准）`),
        findings.length ? h("ul", {}, findings.map((f) => {
          const item = [...iterItems(ctx.checklist)].find(([, i]) => i.id === f.item_id)[1];
          const { local, others } = photosOf(ctx, f.item_id);
          const count = local.filter((x) => ctx.entries.some((e) => e.client_id === x.client_id && e.status !== "discarded" && e.status !== "refused")).length + others.length;
          return h("li", {}, `${f.item_id} ${RESULT[f.result]}，照片 ${count}/${item.evidence ? item.evidence.min_photos : 0}`);
        })) : null,
        queueOpen ? h("p", { class: "warn" }, `还有 ${queueOpen} 条记录未上传。`, h("a", { href: "#sync" }, "查看同步队列")) : null),
      h("div", { class: "card" }, h("h2", {}, "签名"), signedList(ctx)),
      ctx.lead ? h("div", { class: "card submit" },
        entry && entry.status === "refused" ? h("div", { class: "error", role: "alert" }, h("p", {}, `服务器未接受提交：${entry.message}`),
          entry.details && entry.details.missing ? missingList(ctx, entry.details.missing) : null) : null,
        pendingSubmit ? h("p", { class: "info", id: "submit-state" }, entry.message || "已排队，联网后提交") : null,
        submitButton,
        h("p", { class: "small" }, "提交后检查结果由服务器评分并锁定，生成整改通知书和检查报告；之后只能由组长通过更正记录修改。"))
        : h("p", { class: "card" }, "只有组长可以提交检查结果。"));
  };
  await draw();
  app.live = draw;
  refreshSoon(aid);
  return h("section", { class: "submit-view" }, title,
    h("p", { class: "small" }, ctx.bundle.institution.name), body, h("p", {}, h("a", { href: `#a/${aid}` }, "返回")));
}
