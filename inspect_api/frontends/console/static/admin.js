// 系统管理: users and roles of the office's region, the working-day calendar (overrides and warnings), the audit
// log with the verification of its hash chain.

import { heading, tabs } from "../../ui/static/app.js";
import {
  actionButton, append, badge, clear, dl, fmtTime, form, h, input, okBox, section, select, table,
} from "../../ui/static/ui.js";
import { labelled, listing, regionName, regionOptions, searchBox } from "./common.js";

const TABS = [["/users", "用户与角色"], ["/calendar", "工作日历"], ["/audit", "审计日志"]];

async function usersPage(ctx) {
  const { session, labels } = ctx;
  const list = listing(ctx, {
    filters: [
      labelled("用户名包含", input("q", { type: "search", maxlength: 64 })),
      labelled("角色", select("role", labels.options("roles"), { empty: "全部" })),
      labelled("行政区划", select("region", regionOptions(ctx), { empty: "全部" })),
      labelled("状态", select("active", [{ code: "true", label: "启用" }, { code: "false", label: "停用" }], { empty: "全部" })),
    ],
    fetch: (params) => session.get("/users", params),
    columns: [
      { label: "用户名", value: (u) => h("span", { class: "mono", text: u.username }) },
      { label: "名称", value: (u) => u.display_name },
      { label: "角色", value: (u) => labels.name("roles", u.role) },
      { label: "区划", value: (u) => regionName(ctx, u.region) },
      { label: "关联", value: (u) => (u.institution_id ? h("a", { href: `${ctx.base}/institutions/${u.institution_id}`, text: "机构" })
        : u.inspector_id ? h("a", { href: `${ctx.base}/inspectors/${u.inspector_id}`, text: "检查人员" }) : null) },
      { label: "状态", value: (u) => (u.active ? "启用" : badge("停用", "warn")) },
      { label: "最近登录", value: (u) => (u.last_login_at ? fmtTime(u.last_login_at) : "从未登录") },
      { label: "操作", value: (u) => userActions(ctx, u, () => list.load()) },
    ],
    empty: "没有符合条件的用户",
  });
  append(ctx.main, [heading("用户与角色"), tabs(ctx, TABS), section("新建用户", createUserForm(ctx, () => list.load())), list.el]);
  await list.load();
}

function userActions(ctx, u, reload) {
  const { session } = ctx;
  const box = h("div", { class: "row" });
  const toggle = u.active
    ? actionButton("停用", async () => { await session.post(`/users/${u.id}/deactivate`); await reload(); }, { cls: "secondary small" })
    : actionButton("启用", async () => { await session.post(`/users/${u.id}/reactivate`); await reload(); }, { cls: "secondary small" });
  const password = input("new_password", { type: "password", autocomplete: "new-password", placeholder: "新密码" });
  const reset = form([password], async () => {
    await session.post(`/users/${u.id}/reset-password`, { new_password: password.value });
    password.value = "";
    return "已重置，该用户需重新登录";
  }, { submit: "重置密码", cls: "reset-form" });
  box.append(toggle, reset);
  return box;
}

function createUserForm(ctx, reload) {
  const { session, labels } = ctx;
  const role = select("role", labels.options("roles"), { required: true });
  const link = select("link_id", [], { empty: "请先搜索" });
  const linkLabel = h("span", { class: "label", text: "关联的机构或检查人员" });
  const search = searchBox("link_q", "输入名称后按回车", async (q) => {
    const path = role.value === "institution" ? "/institutions" : "/inspectors";
    const data = await session.get(path, { q, per_page: 50 });
    clear(link, h("option", { value: "", text: data.items.length ? "请选择" : "没有匹配的记录" }),
      data.items.map((x) => h("option", { value: x.id, text: x.certificate_no ? `${x.name}（${x.certificate_no}）` : x.name })));
  });
  const linkField = h("div", { class: "field" }, linkLabel, search, link);
  const showLink = () => { linkField.hidden = role.value === "office_admin"; clear(link, h("option", { value: "", text: "请先搜索" })); };
  role.addEventListener("change", showLink);
  showLink();
  const fields = {
    username: input("username", { required: true, maxlength: 64, autocomplete: "off" }),
    password: input("password", { type: "password", required: true, autocomplete: "new-password" }),
    region: select("region", regionOptions(ctx), { value: ctx.session.user.region }),
    display_name: input("display_name", { maxlength: 64 }),
    phone: input("phone", { maxlength: 32 }),
    email: input("email", { type: "email", maxlength: 128 }),
  };
  return form([h("div", { class: "form-grid" },
    labelled("用户名", fields.username), labelled("初始密码", fields.password), labelled("角色", role),
    labelled("行政区划", fields.region), labelled("名称", fields.display_name), labelled("电话", fields.phone),
    labelled("邮箱", fields.email), linkField)], async () => {
    const body = { username: fields.username.value.trim(), password: fields.password.value, role: role.value, region: fields.region.value };
    for (const key of ["display_name", "phone", "email"]) if (fields[key].value.trim()) body[key] = fields[key].value.trim();
    if (role.value === "institution" && link.value) body.institution_id = link.value;
    if (role.value === "inspector" && link.value) body.inspector_id = link.value;
    await session.post("/users", body);
    await reload();
    return `已创建用户 ${body.username}`;
  }, { submit: "创建用户", cls: "user-form" });
}

// ---------------------------------------------------------------- calendar

async function calendarPage(ctx) {
  const { session } = ctx;
  const thisYear = new Date().getFullYear();
  const year = Number(ctx.query.get("year")) || thisYear;
  const data = await session.get("/calendar/overrides", { year });
  const warnings = await session.get("/calendar/warnings");
  const reload = () => ctx.navigate(`/calendar?year=${year}`, { replace: true });
  const years = Array.from({ length: 5 }, (_x, i) => ({ code: String(thisYear - 1 + i), label: `${thisYear - 1 + i} 年` }));
  const yearSelect = select("year", years, { value: String(year) });
  yearSelect.addEventListener("change", () => ctx.navigate(`/calendar?year=${yearSelect.value}`));
  const date = input("date", { type: "date", required: true });
  const working = select("working", [{ code: "true", label: "工作日（含调休上班）" }, { code: "false", label: "休息日" }]);
  const note = input("note", { maxlength: 200, placeholder: "如：国务院办公厅通知调休" });
  append(ctx.main, [
    heading("工作日历"), tabs(ctx, TABS),
    h("p", { class: "muted", text: "整改和公开期限按工作日计算：先用本页的调整，再用国家法定节假日和调休安排。修改日历不会移动已经确定的期限。" }),
    warnings.items.length ? section("提示", warnings.items.map((w) => h("div", { class: "alert warn" }, h("p", { text: w.message }),
      actionButton(`已录入 ${w.year} 年全部调休安排，确认`, async () => {
        await session.put("/calendar/overrides", { confirm_years: [w.year] });
        reload();
      })))) : null,
    section("增加或修改一天", form([h("div", { class: "form-grid" }, labelled("日期", date), labelled("这一天是", working), labelled("说明", note))], async () => {
      await session.put("/calendar/overrides", { items: [{ date: date.value, working: working.value === "true", note: note.value.trim() }] });
      reload();
      return "已保存";
    }, { submit: "保存", cls: "calendar-form" })),
    section(`${year} 年的调整`, h("div", { class: "filters" }, labelled("年份", yearSelect)),
      data.confirmed_years.length ? h("p", { class: "muted", text: `已确认调休安排的年份：${data.confirmed_years.join("、")}` }) : null,
      table([
        { label: "日期", value: (o) => o.date },
        { label: "调整为", value: (o) => (o.working ? badge("工作日", "warn") : badge("休息日", "ok")) },
        { label: "说明", value: (o) => o.note },
        { label: "修改时间", value: (o) => (o.updated_at ? fmtTime(o.updated_at) : null) },
        { label: "操作", value: (o) => actionButton("删除", async () => {
          await session.put("/calendar/overrides", { remove: [o.date] });
          reload();
        }, { cls: "secondary small" }) },
      ], data.items, "本年度没有调整")),
  ]);
}

// ---------------------------------------------------------------- audit log

async function auditPage(ctx) {
  const { session } = ctx;
  const verdict = h("div", { "aria-live": "polite" });
  const list = listing(ctx, {
    filters: [
      labelled("操作", input("action", { maxlength: 64, placeholder: "如 draw.drawn、user.create" })),
      labelled("对象类型", input("target_type", { maxlength: 64, placeholder: "如 user、plan" })),
      labelled("对象编号", input("target_id", { maxlength: 64 })),
    ],
    fetch: (params) => session.get("/audit/events", params),
    perPage: 50,
    columns: [
      { label: "序号", value: (e) => String(e.seq) },
      { label: "时间", value: (e) => fmtTime(e.at) },
      { label: "操作人", value: (e) => e.actor_name },
      { label: "操作", value: (e) => h("span", { class: "mono", text: e.action }) },
      { label: "对象", value: (e) => (e.target_type ? `${e.target_type} ${e.target_id || ""}` : null) },
      { label: "区划", value: (e) => regionName(ctx, e.region) },
      { label: "哈希", value: (e) => h("span", { class: "hash", title: e.hash, text: `${e.hash.slice(0, 12)}…` }) },
    ],
    empty: "没有符合条件的记录",
  });
  append(ctx.main, [heading("审计日志"), tabs(ctx, TABS),
    section("哈希链校验", h("p", { class: "muted", text: "每条记录保存上一条记录的哈希值，任何记录被修改或删除都会使链条断开。校验会逐条检查整条链。" }),
      actionButton("校验审计链", async () => {
        const r = await session.get("/audit/verify");
        clear(verdict, r.ok ? okBox(r.message) : h("div", { class: "alert error", role: "alert" }, h("strong", { text: r.message }),
          dl([["断开位置", r.broken_seq], ["原因", r.reason]])));
      }), verdict),
    list.el]);
  await list.load();
}

export const adminRoutes = [
  ["/users", usersPage],
  ["/calendar", calendarPage],
  ["/audit", auditPage],
];
