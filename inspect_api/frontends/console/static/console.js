// The office console (/console/): one module per area, wired here. The office's region subtree is the
// API's: every list is already scoped, and an id of another region answers 404 (shown as such).

import { heading, start } from "../../ui/static/app.js";
import { inboxPage, unreadCount } from "../../ui/static/inbox.js";
import { append, daysLeft, h } from "../../ui/static/ui.js";
import { directoryRoutes } from "./directory.js";
import { drawRoutes } from "./draws.js";
import { workRoutes } from "./work.js";
import { publicationRoutes } from "./publication.js";
import { adminRoutes } from "./admin.js";

async function loadRegions(ctx) {
  const regions = (await ctx.session.get("/regions", { within: ctx.session.user.region })).items;
  ctx.regions = regions;
  ctx.regionNames = Object.fromEntries(regions.map((r) => [r.code, r.name]));
  const own = ctx.regionNames[ctx.session.user.region] || ctx.session.user.region;
  ctx.scopeText = `辖区：${own}（${ctx.session.user.region}）`;
}

function stat(ctx, path, label, value, extra = null, alert = false) {
  return h("a", { class: `stat ${alert ? "alert-stat" : ""}`, href: ctx.base + path },
    h("span", { class: "n", text: String(value) }), h("span", { text: label }), extra ? h("div", {}, extra) : null);
}

async function dashboard(ctx) {
  const { session, main } = ctx;
  const q = (queue) => session.get("/rectifications/findings", { queue, per_page: 1 });
  const [answered, extensions, overdue, pending, warnings, plans, unread] = await Promise.all([
    q("answered"), q("extension_pending"), q("overdue"),
    session.get("/publication/pending", { per_page: 1 }), session.get("/calendar/warnings"),
    session.get("/plans", { state: "committed", per_page: 1 }), unreadCount(ctx)]);
  const nearest = pending.items[0];
  append(main, [
    heading("工作概览"),
    warnings.items.length ? h("div", { class: "alert warn", role: "status" },
      warnings.items.map((w) => h("p", {}, w.message, " ", h("a", { href: `${ctx.base}/calendar`, text: "去工作日历" })))) : null,
    h("div", { class: "grid" },
      stat(ctx, "/reviews?queue=answered", "待审核的整改答复", answered.total),
      stat(ctx, "/reviews?queue=extension_pending", "待审批的延期申请", extensions.total),
      stat(ctx, "/reviews?queue=overdue", "逾期未整改的问题", overdue.total, null, overdue.total > 0),
      stat(ctx, "/publication", "待公开的检查结果", pending.total,
        nearest ? ["最早期限 ", nearest.deadline, " ", daysLeft(nearest.working_days_left)] : null,
        Boolean(nearest && nearest.overdue)),
      stat(ctx, "/plans", "已提交承诺待抽取的计划", plans.total),
      stat(ctx, "/inbox", "未读通知", unread))]);
}

start({
  app: "console",
  roles: ["office_admin"],
  title: document.body.dataset.title,
  wrongRole: "该账号不是办公室账号。机构人员请使用整改平台（/portal/）登录；检查人员请使用手机检查应用。",
  onLogin: loadRegions,
  nav: [
    { path: "/", label: "概览" },
    { path: "/institutions", label: "名录库", match: ["/institutions", "/inspectors", "/import", "/conflicts", "/regions"] },
    { path: "/plans", label: "双随机抽查", match: ["/plans", "/draws"] },
    { path: "/assignments", label: "检查任务", match: ["/assignments", "/inspections"] },
    { path: "/reviews", label: "整改审核", match: ["/reviews", "/orders"] },
    { path: "/publication", label: "结果公开", match: ["/publication", "/notices"] },
    { path: "/users", label: "系统管理", match: ["/users", "/calendar", "/audit"] },
    { path: "/inbox", label: "通知", badge: unreadCount },
  ],
  routes: [
    ["/", dashboard],
    ...directoryRoutes,
    ...drawRoutes,
    ...workRoutes,
    ...publicationRoutes,
    ...adminRoutes,
    ["/inbox", (ctx) => inboxPage(ctx, (n) => {
      const d = n.data || {};
      if (d.order_id) return `${ctx.base}/orders/${d.order_id}`;
      if (d.inspection_id) return `${ctx.base}/publication/${d.inspection_id}`;
      return null;
    })],
  ],
});
