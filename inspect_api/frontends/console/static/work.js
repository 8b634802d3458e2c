// 检查任务 and 整改审核: assignments by status with check-in and reused-photo flags, submitted inspections and
// their reports; review queues (answers, extension requests, critical findings, overdue), orders with the
// review, extension and re-inspection decisions the API offers (``actions``).

import { heading, tabs } from "../../ui/static/app.js";
import {
  actionButton, append, badge, daysLeft, dl, fmtDate, fmtTime, form, h, input, photoStrip, section,
  select, table, textarea,
} from "../../ui/static/ui.js";
import { labelled, listing, regionName } from "./common.js";

// ---------------------------------------------------------------- work in progress

function flags(inspection) {
  if (!inspection) return "未开始";
  const out = [];
  if (inspection.checked_in_at) {
    out.push(inspection.checkin_flagged ? inspection.checkin_flags.map((f) => [badge(f.name, "bad"), " "]) : badge("签到正常", "ok"));
    if (inspection.checkin_distance_m != null) out.push(` 距机构 ${Math.round(inspection.checkin_distance_m)} 米`);
  } else {
    out.push("未签到");
  }
  return out;
}

async function assignmentsPage(ctx) {
  const { session, labels } = ctx;
  const list = listing(ctx, {
    filters: [
      labelled("状态", select("status", labels.options("assignment_statuses"), { empty: "全部" })),
      labelled("来源", select("source", labels.options("assignment_sources"), { empty: "全部" })),
    ],
    fetch: (params) => session.get("/assignments", params),
    columns: [
      { label: "机构", value: (a) => h("a", { href: `${ctx.base}/institutions/${a.institution_id}`, text: a.institution_name || a.institution_id }) },
      { label: "区划", value: (a) => regionName(ctx, a.region) },
      { label: "来源", value: (a) => labels.name("assignment_sources", a.source) },
      { label: "截止日期", value: (a) => a.due_date },
      { label: "状态", value: (a) => labels.name("assignment_statuses", a.status) },
      { label: "签到", value: (a) => flags(a.inspection) },
      { label: "照片", value: (a) => (a.inspection ? [`${a.inspection.photos} 张`, a.inspection.reused_photos ? [" ", badge(`${a.inspection.reused_photos} 张疑似重复使用`, "bad")] : null] : null) },
      { label: "结果", value: (a) => (a.inspection && a.inspection.submitted_at ? `${a.inspection.score} 分 ${labels.name("grades", a.inspection.grade)}` : null) },
      { label: "检查记录", value: (a) => (a.inspection ? h("a", { href: `${ctx.base}/inspections/${a.id}`, text: a.inspection.code }) : null) },
    ],
    empty: "没有符合条件的检查任务",
  });
  append(ctx.main, [heading("检查任务"), h("p", { class: "muted", text: "签到超出范围、定位异常或照片与其他机构的照片近似时，会在此标出，请核实。" }), list.el]);
  await list.load();
}

async function inspectionPage(ctx) {
  const { session, params, labels } = ctx;
  const [ins, assignment] = await Promise.all([session.get(`/inspections/${params.id}`), session.get(`/assignments/${params.id}`)]);
  const team = await Promise.all(ins.team.map((id) => session.get(`/inspectors/${id}`).catch(() => ({ id, name: id }))));
  const checkin = ins.checkin;
  const reused = new Set(ins.photos.filter((p) => p.reused).map((p) => p.id));
  const result = ins.result || {};
  const tools = [];
  if (ins.state === "submitted") {
    tools.push(actionButton("下载检查报告（可打印）", () => session.download(`/inspections/${ins.id}/report`, `report-${ins.code}.html`), { cls: "secondary" }),
      h("a", { class: "button", href: `${ctx.base}/publication/${ins.id}`, text: "结果公开" }));
  }
  append(ctx.main, [
    heading(`检查记录 ${ins.code}`, ...tools),
    section("任务", dl([
      ["机构", h("a", { href: `${ctx.base}/institutions/${ins.institution_id}`, text: assignment.institution_name || ins.institution_id })],
      ["来源", `${labels.name("assignment_sources", assignment.source)}${assignment.reason ? `（${labels.name("targeted_reasons", assignment.reason)}）` : ""}`],
      ["说明", assignment.reason_note], ["截止日期", assignment.due_date],
      ["检查组", team.map((m, j) => `${m.name}${j === 0 ? "（组长）" : ""}`).join("、")],
      ["检查表", `${ins.checklist_code} 第 ${ins.checklist_version} 版`],
      ["状态", labels.name("inspection_states", ins.state)],
      ["任务状态", labels.name("assignment_statuses", ins.assignment_status)],
    ])),
    section("签到", checkin ? dl([
      ["时间", fmtTime(checkin.received_at)],
      ["距机构", checkin.distance_m == null ? "机构位置未登记" : `${Math.round(checkin.distance_m)} 米（允许 ${Math.round(checkin.radius_m)} 米）`],
      ["定位精度", checkin.accuracy_m == null ? null : `${checkin.accuracy_m} 米`],
      ["标记", checkin.flagged ? checkin.flag_reasons.map((r) => [badge(labels.name("checkin_flags", r), "bad"), " "]) : badge("正常", "ok")],
    ]) : h("p", { class: "empty", text: "尚未签到" })),
    section(`照片（${ins.photos.length} 张）`, photoStrip(session, ins.photos.map((p) => p.id), "照片",
      (id) => (reused.has(id) ? [" ", badge("疑似重复使用", "bad")] : null)) || h("p", { class: "empty", text: "暂无照片" })),
    ins.state === "submitted" ? section("检查结果", dl([
      ["得分", result.score], ["等级", result.grade_name || labels.name("grades", result.grade)],
      ["一票否决项", result.veto_failed && result.veto_failed.length ? result.veto_failed.join("、") : "无"],
      ["提交时间", fmtTime(ins.submitted_at)],
      ["整改通知书", ins.order_id ? h("a", { href: `${ctx.base}/orders/${ins.order_id}`, text: "查看整改通知书" }) : "无问题，未下达"],
      ["报告校验值", h("span", { class: "hash", text: ins.report_hash })],
    ]), h("h3", { text: "发现的问题" }), table([
      { label: "检查项", value: (f) => f.item_text },
      { label: "严重程度", value: (f) => labels.name("severities", f.severity) },
      { label: "扣分", value: (f) => String(f.points_lost) },
      { label: "说明", value: (f) => f.note },
    ], ins.findings || [], "未发现问题")) : null,
    ins.corrections && ins.corrections.length ? section("更正记录", table([
      { label: "时间", value: (c) => fmtTime(c.at) }, { label: "理由", value: (c) => c.reason },
      { label: "得分", value: (c) => `${c.score_before} → ${c.score_after}` }], ins.corrections)) : null,
  ]);
}

// ---------------------------------------------------------------- reviews

const REVIEW_TABS = (ctx) => [...ctx.labels.options("review_queues").map((q) => [`/reviews?queue=${q.code}`, q.label]), ["/orders", "全部整改通知书"]];

async function reviewsPage(ctx) {
  const { session, labels } = ctx;
  const queue = ctx.query.get("queue") || "answered";
  const list = listing(ctx, {
    fetch: (params) => session.get("/rectifications/findings", { ...params, queue }),
    columns: [
      { label: "机构", value: (f) => f.institution_name },
      { label: "通知书", value: (f) => h("a", { href: `${ctx.base}/orders/${f.order_id}#finding-${f.id}`, text: `${f.order_number} 第 ${f.seq} 项` }) },
      { label: "问题", value: (f) => f.item_text },
      { label: "严重程度", value: (f) => f.severity_name },
      { label: "状态", value: (f) => [f.status_name, f.extension && f.extension.status === "pending" ? [" ", badge("延期待审批", "warn")] : null] },
      { label: "整改期限", value: (f) => [fmtDate(f.deadline), " ", daysLeft(f.working_days_left)] },
      { label: "升级", value: (f) => f.level_title },
      { label: "可办理", value: (f) => f.actions.map((a) => labels.name("finding_actions", a)).join("、") },
    ],
    empty: "队列为空",
  });
  append(ctx.main, [heading("整改审核"), tabs(ctx, REVIEW_TABS(ctx), `/reviews?queue=${queue}`), list.el]);
  await list.load();
}

async function ordersPage(ctx) {
  const { session, labels } = ctx;
  const list = listing(ctx, {
    filters: [labelled("状态", select("status", labels.options("order_statuses"), { empty: "全部" }))],
    fetch: (params) => session.get("/rectifications", params),
    columns: [
      { label: "编号", value: (o) => h("a", { href: `${ctx.base}/orders/${o.id}`, text: o.number }) },
      { label: "机构", value: (o) => o.institution_name },
      { label: "区划", value: (o) => regionName(ctx, o.region) },
      { label: "状态", value: (o) => o.status_name },
      { label: "未办结 / 待审核 / 逾期", value: (o) => `${o.open_findings} / ${o.awaiting_review} / ${o.overdue_findings}` },
      { label: "最近期限", value: (o) => (o.next_deadline ? [fmtDate(o.next_deadline), " ", daysLeft(o.working_days_left)] : null) },
      { label: "升级", value: (o) => o.level_title },
    ],
    empty: "暂无整改通知书",
  });
  append(ctx.main, [heading("整改通知书"), tabs(ctx, REVIEW_TABS(ctx), "/orders"), list.el]);
  await list.load();
}

function reviewForms(ctx, order, f) {
  const { session } = ctx;
  const base = `/rectifications/${order.id}/findings/${f.id}`;
  const reload = () => ctx.navigate(location.pathname, { replace: true });
  const out = [];
  if (f.actions.includes("review")) {
    const decision = select("decision", [{ code: "accept", label: "通过" }, { code: "reject", label: "退回重新整改" }], { required: true });
    const comment = textarea("comment", { rows: 2, required: true, maxlength: 1000, placeholder: "审核意见（机构可见）" });
    const deadline = input("new_deadline", { type: "date" });
    out.push(h("h3", { text: "审核答复" }), form([h("div", { class: "form-grid" }, labelled("审核结论", decision),
      labelled("退回时的新期限（可空：按原工作日数自今日起算）", deadline)), labelled("审核意见", comment)], async () => {
      const body = { decision: decision.value, comment: comment.value.trim() };
      if (decision.value === "reject" && deadline.value) body.new_deadline = deadline.value;
      await session.post(`${base}/review`, body);
      reload();
      return "已审核";
    }, { submit: "提交审核", cls: "review-form" }));
  }
  if (f.actions.includes("decide_extension")) {
    const approve = select("approve", [{ code: "true", label: "批准" }, { code: "false", label: "不批准" }]);
    const comment = textarea("comment", { rows: 2, maxlength: 1000 });
    out.push(h("h3", { text: "审批延期申请" }), form([labelled("审批结论", approve), labelled("审批意见", comment)], async () => {
      await session.post(`${base}/extension/decision`, { approve: approve.value === "true", comment: comment.value.trim() });
      reload();
      return "已审批";
    }, { submit: "提交审批", cls: "extension-decision-form" }));
  }
  if (f.actions.includes("require_reinspection")) {
    const note = textarea("note", { rows: 2, maxlength: 500, placeholder: "复查要求（可空）" });
    out.push(h("h3", { text: "要求现场复查" }), form([labelled("说明", note)], async () => {
      await session.post(`${base}/reinspection`, note.value.trim() ? { note: note.value.trim() } : {});
      reload();
      return "已创建复查任务";
    }, { submit: "创建现场复查任务", cls: "reinspection-form" }));
  }
  return out;
}

async function orderPage(ctx) {
  const { session, params, labels } = ctx;
  const order = await session.get(`/rectifications/${params.id}`);
  append(ctx.main, [
    heading(`整改通知书 ${order.number}`, h("a", { class: "button secondary", href: `${ctx.base}/inspections/${order.inspection_id}`, text: "检查记录" })),
    tabs(ctx, REVIEW_TABS(ctx), "/orders"),
    section("通知书", dl([
      ["机构", h("a", { href: `${ctx.base}/institutions/${order.institution_id}`, text: order.institution_name })],
      ["区划", regionName(ctx, order.region)], ["下达时间", fmtTime(order.issued_at)], ["状态", order.status_name],
      ["签收", order.acknowledged_at ? fmtTime(order.acknowledged_at) : badge("机构未签收", "warn")],
      ["未办结 / 待审核 / 逾期", `${order.open_findings} / ${order.awaiting_review} / ${order.overdue_findings}`],
      ["最近期限", order.next_deadline ? [fmtDate(order.next_deadline), " ", daysLeft(order.working_days_left)] : null],
      ["升级", order.level_title],
    ])),
    order.findings.map((f) => {
      const settled = f.status === "accepted" || f.status === "withdrawn";
      return h("section", { class: `card finding ${f.overdue && !settled ? "overdue" : ""} ${settled ? "settled" : ""}`, id: `finding-${f.id}` },
        h("h2", { text: `第 ${f.seq} 项：${f.item_text || f.item_id}` }),
        dl([["严重程度", f.severity_name], ["状态", f.status_name],
          ["整改期限", [fmtDate(f.deadline), " ", daysLeft(f.working_days_left)]], ["升级", f.level_title],
          ["需现场复查", f.reinspection_required ? "是" : "否"], ["逾期", f.overdue && !settled ? badge("逾期", "bad") : "否"]]),
        f.steps.length ? h("ul", { class: "steps" }, f.steps.map((s) => h("li", { text: `${fmtDate(s.due)} ${s.title}` }))) : null,
        f.answers.map((a) => h("div", { class: "answer" },
          h("div", { class: "row" }, h("strong", { text: `第 ${a.seq} 次答复` }), h("span", { class: "muted", text: fmtTime(a.answered_at) }),
            a.late ? badge("逾期答复", "bad") : null,
            a.decision ? badge(a.decision === "accepted" ? "已通过" : "已退回", a.decision === "accepted" ? "ok" : "bad") : badge("待审核", "warn")),
          h("p", { text: a.description }), photoStrip(session, a.photo_ids || [], "整改照片"),
          a.decision ? h("p", { class: "muted", text: `审核意见：${a.comment || "—"}` }) : null)),
        f.extension ? h("div", { class: "answer" }, h("strong", { text: "延期申请" }), dl([
          ["理由", f.extension.reason], ["申请的新期限", fmtDate(f.extension.requested_deadline)],
          ["状态", labels.name("extension_statuses", f.extension.status)], ["审批意见", f.extension.comment]])) : null,
        f.reinspection ? h("p", {}, "已要求现场复查：", h("a", { href: `${ctx.base}/assignments?status=assigned`, text: "查看检查任务" })) : null,
        reviewForms(ctx, order, f));
    }),
  ]);
  if (location.hash) {
    const target = document.getElementById(location.hash.slice(1));
    if (target) requestAnimationFrame(() => target.scrollIntoView());
  }
}

export const workRoutes = [
  ["/assignments", assignmentsPage],
  ["/inspections/:id", inspectionPage],
  ["/reviews", reviewsPage],
  ["/orders", ordersPage],
  ["/orders/:id", orderPage],
];
