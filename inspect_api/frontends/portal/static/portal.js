// The institution portal (/portal/): the orders (整改通知书) of the signed-in institution, answers with photos,
// one extension request per finding, the inbox, the institution's profile, QR code and check-in poster.
// Every deadline count, escalation state and allowed action is the API's (fields and ``actions``).

import { uuid } from "../../ui/static/api.js";
import { heading, start } from "../../ui/static/app.js";
import { inboxPage, unreadCount } from "../../ui/static/inbox.js";
import {
  actionButton, append, badge, clear, photoStrip, daysLeft, dl, field, fmtDate, fmtTime, form, h, input, linkButton, pager, section,
  select, table, textarea,
} from "../../ui/static/ui.js";

// ---------------------------------------------------------------- orders

async function ordersPage(ctx) {
  const { session, main, query, labels } = ctx;
  const status = select("status", labels.options("order_statuses"), { value: query.get("status") || "", empty: "全部" });
  const list = h("div");
  main.append(heading("我的整改通知书"),
    h("p", { class: "muted", text: "整改期限按工作日计算（北京时间）；请在期限内逐项答复，逾期将按规定逐级升级。" }),
    h("div", { class: "filters" }, h("label", { class: "field inline" }, h("span", { class: "label", text: "状态" }), status)),
    list);

  async function load(page = 1) {
    const data = await session.get("/rectifications", { status: status.value, page, per_page: 20 });
    clear(list, table([
      { label: "通知书编号", value: (o) => h("a", { href: `${ctx.base}/orders/${o.id}`, text: o.number }) },
      { label: "下达时间", value: (o) => fmtTime(o.issued_at) },
      { label: "状态", value: (o) => [o.status_name, o.acknowledged_at ? null : [" ", badge("未签收", "warn")]] },
      { label: "未办结问题", value: (o) => `${o.open_findings} / ${o.finding_count}` },
      { label: "最近整改期限", value: (o) => (o.next_deadline ? fmtDate(o.next_deadline) : null) },
      { label: "剩余时间", value: (o) => daysLeft(o.working_days_left) },
      { label: "逾期", value: (o) => (o.overdue_findings ? badge(`${o.overdue_findings} 项逾期`, "bad") : "无") },
      { label: "升级情况", value: (o) => o.level_title || "未升级" },
    ], data.items, "暂无整改通知书"), pager(data, load));
  }
  status.addEventListener("change", () => load(1));
  await load(Number(query.get("page")) || 1);
}

function answerBlock(ctx, answer) {
  const decision = answer.decision === "accepted" ? badge("审核通过", "ok")
    : answer.decision === "rejected" ? badge("审核退回", "bad") : badge("待审核", "warn");
  return h("div", { class: "answer" },
    h("div", { class: "row" }, h("strong", { text: `第 ${answer.seq} 次答复` }), h("span", { class: "muted", text: fmtTime(answer.answered_at) }),
      answer.late ? badge("逾期答复", "bad") : null, decision),
    h("p", { text: answer.description }),
    photoStrip(ctx.session, answer.photo_ids || [], "整改照片"),
    answer.decision ? dl([["审核意见", answer.comment], ["审核时间", fmtTime(answer.reviewed_at)],
      ["新的整改期限", answer.new_deadline ? fmtDate(answer.new_deadline) : undefined]]) : null);
}

function answerForm(ctx, order, finding) {
  const description = textarea("description", { required: true, maxlength: 4000, placeholder: "说明整改措施和完成情况" });
  const files = input("photos", { type: "file", accept: "image/jpeg,image/png,image/webp,image/heic,image/heif", multiple: true });
  return form([
    field("整改说明", description),
    field("整改照片", files, "可选多张（JPEG、PNG、WebP、HEIC），每次最多 20 张"),
  ], async () => {
    const base = `/rectifications/${order.id}/findings/${finding.id}`;
    const photoIds = [];
    for (const file of files.files) {
      const data = new FormData();
      data.append("client_id", uuid());
      data.append("file", file, file.name);
      photoIds.push((await ctx.session.upload(`${base}/photos`, data)).id);
    }
    await ctx.session.post(`${base}/answer`, { description: description.value.trim(), photo_ids: photoIds, client_id: uuid() });
    ctx.navigate(location.pathname, { replace: true });
    return "已提交答复";
  }, { submit: "提交答复", cls: "answer-form" });
}

function extensionForm(ctx, order, finding) {
  const reason = textarea("reason", { required: true, maxlength: 1000, rows: 3, placeholder: "说明需要延期的原因" });
  const until = input("requested_deadline", { type: "date", required: true });
  return form([field("延期理由", reason), field("申请的新期限", until, "须晚于当前整改期限；每个问题只能申请一次")], async () => {
    await ctx.session.post(`/rectifications/${order.id}/findings/${finding.id}/extension`,
      { reason: reason.value.trim(), requested_deadline: until.value });
    ctx.navigate(location.pathname, { replace: true });
    return "已提交延期申请";
  }, { submit: "申请延期", cls: "extension-form" });
}

function findingCard(ctx, order, f) {
  const { labels, session } = ctx;
  const settled = f.status === "accepted" || f.status === "withdrawn";
  const card = h("section", { class: `card finding ${f.overdue && !settled ? "overdue" : ""} ${settled ? "settled" : ""}`,
    "data-finding": f.id },
  h("h2", { text: `问题 ${f.seq}：${f.item_text || f.item_id}` }),
  dl([
    ["依据条款", f.clause],
    ["严重程度", f.severity_name],
    ["状态", f.status_name],
    ["整改期限", [fmtDate(f.deadline), f.original_deadline && f.original_deadline !== f.deadline ? ` （原期限 ${fmtDate(f.original_deadline)}）` : ""]],
    ["剩余时间", daysLeft(f.working_days_left)],
    ["逾期", f.overdue && !settled ? [badge("已逾期", "bad"), f.overdue_since ? ` 自 ${fmtDate(f.overdue_since)}` : ""] : "否"],
    ["升级情况", f.level_title || "未升级"],
    ["现场复查", f.reinspection_required ? "需要现场复查" : "不需要"],
    ["扣分", f.points_lost],
  ]));
  if (f.withdrawn_reason) card.append(h("p", { class: "alert warn", text: `已因检查记录更正撤销：${f.withdrawn_reason}` }));
  if (f.steps && f.steps.length) {
    card.append(h("h3", { text: "提醒与升级记录" }), h("ul", { class: "steps" },
      f.steps.map((s) => h("li", { text: `${fmtDate(s.due)} ${s.title}` }))));
  }
  if (f.answers && f.answers.length) {
    append(card, [h("h3", { text: "答复与审核" }), f.answers.map((a) => answerBlock(ctx, a))]);
  }
  if (f.extension) {
    card.append(h("h3", { text: "延期申请" }), dl([
      ["理由", f.extension.reason], ["申请的新期限", fmtDate(f.extension.requested_deadline)],
      ["审批", labels.name("extension_statuses", f.extension.status)], ["审批意见", f.extension.comment],
      ["审批时间", f.extension.decided_at ? fmtTime(f.extension.decided_at) : null],
    ]));
  }
  if (f.reinspection) {
    card.append(h("h3", { text: "现场复查" }), dl([["要求时间", fmtTime(f.reinspection.requested_at)], ["说明", f.reinspection.note]]));
  }
  if (f.actions.includes("answer")) card.append(h("h3", { text: "答复整改情况" }), answerForm(ctx, order, f));
  if (f.actions.includes("request_extension")) card.append(h("h3", { text: "申请延期" }), extensionForm(ctx, order, f));
  return card;
}

async function orderPage(ctx) {
  const { session, main, params } = ctx;
  const order = await session.get(`/rectifications/${params.id}`);
  const ack = order.actions.includes("acknowledge") ? actionButton("签收通知书", async () => {
    await session.post(`/rectifications/${order.id}/acknowledge`);
    ctx.navigate(location.pathname, { replace: true });
  }) : null;
  append(main, [
    heading(`整改通知书 ${order.number}`, linkButton(`${ctx.base}/orders/${order.id}/print`, "打印通知书", "button secondary")),
    section("通知书", dl([
      ["被检查机构", order.institution_name], ["下达时间", fmtTime(order.issued_at)], ["状态", order.status_name],
      ["未办结问题", `${order.open_findings} / ${order.finding_count}`],
      ["最近整改期限", order.next_deadline ? [fmtDate(order.next_deadline), " ", daysLeft(order.working_days_left)] : null],
      ["升级情况", order.level_title || "未升级"],
      ["签收", order.acknowledged_at ? fmtTime(order.acknowledged_at) : ack],
    ])),
    order.findings.map((f) => findingCard(ctx, order, f))]);
}

async function printPage(ctx) {
  const { session, main, params } = ctx;
  const order = await session.get(`/rectifications/${params.id}`);
  const printButton = h("button", { type: "button", text: "打印" });
  printButton.addEventListener("click", () => window.print());
  document.title = `整改通知书 ${order.number}`;
  main.append(
    h("div", { class: "row no-print" }, printButton, h("a", { href: `${ctx.base}/orders/${order.id}`, text: "返回通知书" })),
    h("article", { class: "print-doc" },
      h("h1", { text: "整改通知书" }),
      h("p", { class: "mono", text: `编号：${order.number}` }),
      h("p", { text: `${order.institution_name || ""}：` }),
      h("p", { text: `经检查，你单位存在下列问题。请按所列整改期限（工作日，北京时间）逐项整改，并通过整改平台答复整改情况。` }),
      h("table", {}, h("thead", {}, h("tr", {}, ["序号", "问题", "依据条款", "严重程度", "整改期限", "当前状态"].map((t) => h("th", { text: t })))),
        h("tbody", {}, order.findings.map((f) => h("tr", {},
          h("td", { text: String(f.seq) }), h("td", { text: f.item_text || f.item_id }), h("td", { text: f.clause || "—" }),
          h("td", { text: f.severity_name }), h("td", { text: fmtDate(f.deadline) }), h("td", { text: f.status_name }))))),
      h("p", { text: `下达时间：${fmtTime(order.issued_at)}　　签收时间：${order.acknowledged_at ? fmtTime(order.acknowledged_at) : "未签收"}` })));
}

// ---------------------------------------------------------------- profile and poster

async function profilePage(ctx) {
  const { session, main } = ctx;
  const id = session.user.institution_id;
  const inst = await session.get(`/institutions/${id}`);
  const qr = h("img", { alt: "签到二维码" });
  session.dataUrl(`/institutions/${id}/qr.png`).then((url) => { qr.src = url; }).catch(() => { qr.alt = "二维码无法显示"; });
  const posterOut = h("div", { class: "poster-link" });
  main.append(
    heading("本机构信息"),
    section("基本信息", dl([
      ["机构名称", inst.name], ["统一社会信用代码", h("span", { class: "mono", text: inst.credit_code })],
      ["机构类型", inst.kind_label], ["服务模式", (inst.tags || []).join("、")], ["行政区划", inst.region],
      ["地址", inst.address], ["养老床位", inst.care_beds], ["医疗床位", inst.medical_beds],
      ["联系人", inst.contact_name], ["联系电话", inst.contact_phone],
      ["状态", ctx.labels.name("institution_statuses", inst.status)],
    ])),
    section("证照", table([
      { label: "类别", value: (l) => ctx.labels.name("licence_kinds", l.kind) },
      { label: "编号", value: (l) => l.number },
      { label: "有效期", value: (l) => `${l.valid_from || "—"} 至 ${l.valid_until || "—"}` },
    ], inst.licences || [], "未登记证照")),
    section("公开信息与签到海报",
      h("p", {}, "公众看到的本机构页面：", h("a", { href: inst.public_url, target: "_blank", rel: "noopener", text: inst.public_url })),
      h("div", { class: "qr" }, qr),
      h("p", { class: "muted", text: `检查人员到达时扫描张贴在入口处的二维码签到（当前海报版本 ${inst.qr_version}）。` }),
      actionButton("生成可打印的签到海报", async () => {
        const link = await session.get(`/institutions/${id}/poster-link`);
        clear(posterOut, h("p", {}, h("a", { href: link.url, target: "_blank", rel: "noopener", class: "button", text: "打开签到海报（可打印）" })),
          h("p", { class: "muted", text: `链接 ${Math.round(link.expires_in / 60)} 分钟内有效。` }));
      }), posterOut));
}

start({
  app: "portal",
  roles: ["institution"],
  title: document.body.dataset.title,
  wrongRole: "该账号不是机构账号。办公室人员请使用监管工作台（/console/）登录。",
  nav: [
    { path: "/", label: "整改通知书" },
    { path: "/inbox", label: "站内通知", badge: unreadCount },
    { path: "/profile", label: "本机构信息" },
  ],
  routes: [
    ["/", ordersPage],
    ["/orders/:id", orderPage],
    ["/orders/:id/print", printPage],
    ["/inbox", (ctx) => inboxPage(ctx, (n) => (n.data && n.data.order_id ? `${ctx.base}/orders/${n.data.order_id}` : null))],
    ["/profile", profilePage],
  ],
});
