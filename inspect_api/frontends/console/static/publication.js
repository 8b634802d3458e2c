// 结果公开: the queue with its 20-working-day countdown (the API's count), preview with the office's redaction
// choices, publish and revise; notices of problems (问题通报): candidates, draft, publish (numbered), retract.

import { heading, tabs } from "../../ui/static/app.js";
import {
  actionButton, append, badge, checkbox, clear, daysLeft, dl, errorBox, field, fmtDate, fmtTime, form, h, input,
  okBox, section, select, table, textarea,
} from "../../ui/static/ui.js";
import { labelled, listing, regionName, regionOptions } from "./common.js";

const TABS = [["/publication", "待公开"], ["/publication/published", "已公开"], ["/notices", "问题通报"], ["/notices/new", "新建通报"]];

async function queuePage(ctx) {
  const { session } = ctx;
  const list = listing(ctx, {
    fetch: (params) => session.get("/publication/pending", params),
    columns: [
      { label: "机构", value: (t) => t.institution_name },
      { label: "检查编号", value: (t) => h("a", { href: `${ctx.base}/publication/${t.inspection_id}`, text: t.code || t.inspection_id }) },
      { label: "区划", value: (t) => regionName(ctx, t.region) },
      { label: "检查结束", value: (t) => fmtTime(t.concluded_at) },
      { label: "公开期限", value: (t) => fmtDate(t.deadline) },
      { label: "剩余", value: (t) => daysLeft(t.working_days_left) },
      { label: "升级", value: (t) => t.level_title || "未升级" },
    ],
    empty: "没有待公开的检查结果",
  });
  append(ctx.main, [heading("检查结果公开"),
    h("p", { class: "muted", text: "检查结果须在检查结束后 20 个工作日内公开（工作日按工作日历计算）。逾期未公开的将逐级提醒和升级。" }),
    tabs(ctx, TABS), list.el]);
  await list.load();
}

async function publishedPage(ctx) {
  const { session } = ctx;
  const list = listing(ctx, {
    fetch: (params) => session.get("/publication/published", params),
    columns: [
      { label: "机构", value: (r) => r.institution_name },
      { label: "检查编号", value: (r) => h("a", { href: `${ctx.base}/publication/${r.inspection_id}`, text: r.code }) },
      { label: "检查日期", value: (r) => r.inspected_on },
      { label: "等级", value: (r) => r.grade_name },
      { label: "公开时间", value: (r) => [fmtTime(r.published_at), r.late ? [" ", badge("逾期公开", "bad")] : null] },
      { label: "修改", value: (r) => (r.revised_at ? fmtTime(r.revised_at) : "未修改") },
      { label: "公开页面", value: (r) => h("a", { href: `/p/results/${r.id}`, target: "_blank", rel: "noopener", text: "查看" }) },
    ],
    empty: "本辖区尚未公开检查结果",
  });
  append(ctx.main, [heading("已公开的检查结果"), tabs(ctx, TABS), list.el]);
  await list.load();
}

function renderPreview(ctx, preview, chosenPhotos) {
  const snap = preview.snapshot;
  const inst = snap.institution || {};
  return h("div", { class: "preview" },
    h("div", { class: "alert warn", text: "以下是公开后公众看到的内容（已隐去居民个人信息和指定的词）。" }),
    dl([["机构", inst.name], ["机构类型", inst.kind_name], ["区划", inst.region_name], ["检查日期", snap.inspected_on],
      ["检查事项", (snap.matters || []).map((m) => m.name).join("；")],
      ["检查组", (snap.team || []).map((t) => `${t.name}（${t.department_name || ""} 执法证号 ${t.certificate_no}）`).join("；")],
      ["得分", snap.score], ["等级", snap.grade_name], ["整改情况", preview.rectification.summary],
      ["公开期限", preview.deadline]]),
    h("h3", { text: `发现的问题（${snap.finding_count} 项）` }),
    table([
      { label: "问题", value: (f) => f.item_text },
      { label: "严重程度", value: (f) => f.severity_name },
      { label: "说明", value: (f) => (f.note === null || f.note === undefined ? "（不公开说明）" : f.note) },
      { label: "照片", value: (f) => (f.photo_ids.length ? `${f.photo_ids.length} 张公开` : "不公开") },
      { label: "整改状态", value: (f) => (f.rectification ? f.rectification.status_name : null) },
    ], preview.findings, "未发现问题"),
    chosenPhotos.size ? h("p", { class: "muted", text: `已选择公开 ${chosenPhotos.size} 张照片。` }) : null);
}

async function publicationPage(ctx) {
  const { session, params } = ctx;
  let preview = await session.post(`/inspections/${params.id}/publication-preview`, {});
  const published = preview.published ? await session.get(`/inspections/${params.id}/publication`) : null;
  const choices = published ? { photo_ids: published.photo_ids, redact_terms: published.redact_terms, include_notes: published.include_notes }
    : { photo_ids: [], redact_terms: [], include_notes: false };
  if (published) preview = await session.post(`/inspections/${params.id}/publication-preview`, choices);
  const previewBox = h("div");
  const chosen = new Set(choices.photo_ids);
  const photoBox = h("div", { class: "photos" });
  for (const id of preview.available_photo_ids) {
    const img = h("img", { alt: "问题照片" });
    session.dataUrl(`/photos/${id}/thumb`).then((u) => { img.src = u; }).catch(() => { img.alt = "照片无法显示"; });
    photoBox.append(h("figure", {}, img, h("figcaption", {}, checkbox("photo_ids", "公开此照片", chosen.has(id)))));
    photoBox.lastChild.querySelector("input").value = id;
  }
  const terms = textarea("redact_terms", { rows: 3, value: choices.redact_terms.join("\n"), placeholder: "每行一个，如居民姓名" });
  const notes = checkbox("include_notes", "公开检查人员填写的问题说明（可能含个人信息，默认不公开）", choices.include_notes);
  const status = h("div", { "aria-live": "polite" });

  const body = () => ({
    photo_ids: [...photoBox.querySelectorAll("input:checked")].map((i) => i.value),
    redact_terms: terms.value.split("\n").map((t) => t.trim()).filter(Boolean),
    include_notes: notes.querySelector("input").checked,
  });
  const refresh = async () => {
    const b = body();
    preview = await session.post(`/inspections/${params.id}/publication-preview`, b);
    clear(previewBox, renderPreview(ctx, preview, new Set(b.photo_ids)));
  };
  clear(previewBox, renderPreview(ctx, preview, chosen));

  const run = (fn) => async () => {
    clear(status);
    try {
      await fn();
    } catch (err) {
      clear(status, errorBox(err));
    }
  };
  const buttons = [actionButton("更新预览", run(refresh), { cls: "secondary" })];
  if (published) {
    buttons.push(actionButton("保存修改（更新公开内容）", run(async () => {
      await session.put(`/inspections/${params.id}/publication`, body());
      ctx.navigate(location.pathname, { replace: true });
    })));
  } else {
    buttons.push(actionButton("发布检查结果", run(async () => {
      await session.post(`/inspections/${params.id}/publish`, body());
      ctx.navigate(location.pathname, { replace: true });
    })));
  }
  append(ctx.main, [
    heading(`结果公开：${preview.snapshot.institution.name}`, h("a", { class: "button secondary", href: `${ctx.base}/inspections/${params.id}`, text: "检查记录" })),
    tabs(ctx, TABS, published ? "/publication/published" : "/publication"),
    published ? okBox(`已于 ${fmtTime(published.published_at)} 公开${published.revised_at ? `，最近修改于 ${fmtTime(published.revised_at)}` : ""}。`) : null,
    published ? h("p", {}, h("a", { href: `/p/results/${published.id}`, target: "_blank", rel: "noopener", text: "查看公开页面" })) : null,
    section("公开选择", field("问题照片（默认不公开）", preview.available_photo_ids.length ? photoBox : h("p", { class: "empty", text: "没有可公开的照片" })),
      field("需隐去的词", terms, "身份证号、电话、邮箱会自动隐去；此处填写其他需遮盖的词，公开内容中显示为首字加星号"),
      notes, h("div", { class: "actions" }, buttons), status),
    section("公开内容预览", previewBox),
  ]);
}

// ---------------------------------------------------------------- notices

async function noticesPage(ctx) {
  const { session, labels } = ctx;
  const list = listing(ctx, {
    filters: [labelled("状态", select("status", labels.options("notice_statuses"), { empty: "全部" }))],
    fetch: (params) => session.get("/notices", params),
    columns: [
      { label: "文号", value: (n) => n.number },
      { label: "标题", value: (n) => h("a", { href: `${ctx.base}/notices/${n.id}`, text: n.title }) },
      { label: "状态", value: (n) => n.status_name },
      { label: "范围", value: (n) => n.region_name },
      { label: "期间", value: (n) => `${n.period_from} 至 ${n.period_to}` },
      { label: "问题数", value: (n) => String((n.finding_ids || []).length) },
      { label: "发布时间", value: (n) => (n.published_at ? fmtTime(n.published_at) : null) },
    ],
    empty: "暂无问题通报",
  });
  append(ctx.main, [heading("问题通报", h("a", { class: "button", href: `${ctx.base}/notices/new`, text: "新建通报" })), tabs(ctx, TABS), list.el]);
  await list.load();
}

function monthStart() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-01`;
}

async function newNoticePage(ctx) {
  const { session } = ctx;
  const region = select("region", regionOptions(ctx), { value: ctx.session.user.region });
  const from = input("period_from", { type: "date", required: true, value: monthStart() });
  const to = input("period_to", { type: "date", required: true, value: new Date().toISOString().slice(0, 10) });
  const candidatesBox = h("div");
  const draftBox = h("div");
  const find = form([h("div", { class: "form-grid" }, labelled("通报范围", region), labelled("问题发现期间起", from), labelled("问题发现期间止", to))], async () => {
    const data = await session.get("/notices/candidates", { region: region.value, period_from: from.value, period_to: to.value });
    const boxes = data.items.map((c) => {
      const box = h("input", { type: "checkbox", name: "finding_ids", value: c.finding_id, checked: c.preselected });
      return { c, box };
    });
    clear(candidatesBox, table([
      { label: "选择", value: (row) => h("label", { class: "check" }, row.box, h("span", { text: "列入" })) },
      { label: "机构", value: (row) => row.c.institution_name },
      { label: "通知书", value: (row) => row.c.order_number },
      { label: "问题", value: (row) => row.c.item_text },
      { label: "严重程度", value: (row) => ctx.labels.name("severities", row.c.severity) },
      { label: "期限", value: (row) => row.c.deadline },
      { label: "状态", value: (row) => ctx.labels.name("finding_statuses", row.c.status) },
      { label: "逾期 / 预选", value: (row) => [row.c.overdue ? badge("逾期", "bad") : null, " ", row.c.preselected ? badge("升级阶梯预选", "warn") : null] },
    ], boxes, "该期间和范围内没有可通报的问题"));
    const title = input("title", { maxlength: 200, placeholder: "可空：按范围和期间自动生成" });
    const text = textarea("text", { rows: 4, maxlength: 20000, placeholder: "可空：自动生成正文" });
    clear(draftBox, form([labelled("标题", title), labelled("正文", text)], async () => {
      const body = { region: region.value, period_from: from.value, period_to: to.value,
        finding_ids: boxes.filter((b) => b.box.checked).map((b) => b.c.finding_id) };
      if (title.value.trim()) body.title = title.value.trim();
      if (text.value.trim()) body.text = text.value.trim();
      const notice = await session.post("/notices", body);
      ctx.navigate(`/notices/${notice.id}`);
      return "已创建草稿";
    }, { submit: "创建通报草稿", cls: "notice-draft-form" }));
    return `找到 ${data.items.length} 个可通报的问题（系统预选的已勾选：逾期或升级阶梯拟列入通报、且尚未被已发布通报列入的问题）`;
  }, { submit: "查找可通报的问题", cls: "candidates-form" });
  append(ctx.main, [heading("新建问题通报"), tabs(ctx, TABS), section("范围和期间", find), section("可通报的问题", candidatesBox), section("通报草稿", draftBox)]);
}

async function noticePage(ctx) {
  const { session, params } = ctx;
  const n = await session.get(`/notices/${params.id}`);
  const reload = () => ctx.navigate(location.pathname, { replace: true });
  const parts = [];
  if (n.actions.includes("update")) {
    const title = input("title", { required: true, maxlength: 200, value: n.title });
    const text = textarea("text", { rows: 6, required: true, maxlength: 20000, value: n.text });
    parts.push(section("修改草稿", form([labelled("标题", title), labelled("正文", text)], async () => {
      await session.patch(`/notices/${n.id}`, { title: title.value.trim(), text: text.value.trim() });
      reload();
      return "已保存";
    }, { submit: "保存草稿", cls: "notice-edit-form" })));
  }
  if (n.actions.includes("publish")) {
    parts.push(section("发布", h("p", { class: "muted", text: "发布后自动编文号（按办公室和年度），向社会公开，不能再修改；只能附理由撤回。" }),
      actionButton("发布通报", async () => { await session.post(`/notices/${n.id}/publish`); reload(); })));
  }
  if (n.actions.includes("retract")) {
    const reason = textarea("reason", { rows: 2, required: true, maxlength: 2000 });
    parts.push(section("撤回（理由公开显示）", form([labelled("撤回理由", reason)], async () => {
      await session.post(`/notices/${n.id}/retract`, { reason: reason.value.trim() });
      reload();
      return "已撤回";
    }, { submit: "撤回通报", cls: "retract-form" })));
  }
  append(ctx.main, [
    heading(n.number ? `${n.title}（${n.number}）` : n.title), tabs(ctx, TABS, "/notices"),
    section("通报", dl([["文号", n.number || "发布时编号"], ["状态", n.status_name], ["范围", n.region_name],
      ["期间", `${n.period_from} 至 ${n.period_to}`], ["发布单位", n.issuer], ["发布时间", n.published_at ? fmtTime(n.published_at) : null],
      ["撤回", n.retracted_at ? `${fmtTime(n.retracted_at)}：${n.retraction_reason}` : undefined],
      ["公开页面", n.status === "draft" ? "草稿不公开" : h("a", { href: `/p/notices/${n.id}`, target: "_blank", rel: "noopener", text: "查看" })]]),
    h("h3", { text: "正文" }), h("p", { class: "pre", text: n.text })),
    section(`通报的问题（${n.items.length} 项）`, table([
      { label: "机构", value: (i) => i.institution_name },
      { label: "通知书", value: (i) => i.order_number },
      { label: "问题", value: (i) => i.item_text },
      { label: "严重程度", value: (i) => i.severity_name },
      { label: "期限", value: (i) => i.deadline },
      { label: "整改状态", value: (i) => i.status_name },
    ], n.items, "未列入问题")),
    parts,
  ]);
}

export const publicationRoutes = [
  ["/publication", queuePage],
  ["/publication/published", publishedPage],
  ["/publication/:id", publicationPage],
  ["/notices", noticesPage],
  ["/notices/new", newNoticePage],
  ["/notices/:id", noticePage],
];
