// 双随机抽查: plans (matters, ratio, strata, risk weighting, mandatory list, team rules), the commitment, the
// draw with public entropy, the record and the verifier's verdict, amendments, cancellation, failed attempts.
// Which buttons a plan offers is the API's ``actions``.

import { heading, tabs } from "../../ui/static/app.js";
import {
  actionButton, append, badge, checkbox, checkboxes, clear, dl, field, fmtTime, form, h, input, okBox, section,
  select, table, textarea, values,
} from "../../ui/static/ui.js";
import { labelled, listing, regionName, regionOptions, searchBox } from "./common.js";

const TABS = [["/plans", "抽查计划"], ["/plans/new", "新建计划"], ["/draws", "抽取记录"]];

async function plansPage(ctx) {
  const { session, labels } = ctx;
  const list = listing(ctx, {
    filters: [labelled("状态", select("state", labels.options("plan_states"), { empty: "全部" }))],
    fetch: (params) => session.get("/plans", params),
    columns: [
      { label: "计划名称", value: (p) => h("a", { href: `${ctx.base}/plans/${p.id}`, text: p.name }) },
      { label: "范围", value: (p) => regionName(ctx, p.region) },
      { label: "检查期间", value: (p) => `${p.period_start} 至 ${p.period_end}` },
      { label: "抽查比例 / 数量", value: (p) => (p.ratio ? `比例 ${p.ratio}` : `${p.count} 家`) },
      { label: "状态", value: (p) => labels.name("plan_states", p.state) },
      { label: "承诺次数", value: (p) => String(p.draw_count) },
    ],
    empty: "暂无抽查计划",
  });
  append(ctx.main, [heading("抽查计划", h("a", { class: "button", href: `${ctx.base}/plans/new`, text: "新建计划" })),
    tabs(ctx, TABS), list.el]);
  await list.load();
}

// ---------------------------------------------------------------- the plan form

async function planForm(ctx, plan) {
  const { session, labels } = ctx;
  const [matters, checklists] = await Promise.all([session.get("/matters", { active: true }), session.get("/checklists")]);
  const p = plan || {};
  const filters = p.filters || { statuses: ["active"], kinds: [], tags: [] };
  const mandatory = [...(p.mandatory || [])];
  const mandatoryNames = {};
  const mandatoryList = h("div");
  const teamSize = input("team_size", { type: "number", min: 2, max: 10, value: String(p.team_size || 2), required: true });
  const requiredBox = h("div", { class: "form-grid" });
  const required = p.required_departments || [];

  function drawRequired() {
    const n = Math.min(Math.max(Number(teamSize.value) || 2, 2), 10);
    const current = [...requiredBox.querySelectorAll("select")].map((s) => s.value);
    clear(requiredBox, Array.from({ length: n }, (_x, j) => labelled(j === 0 ? "第 1 名（组长）须来自" : `第 ${j + 1} 名须来自`,
      select("required_department", labels.options("departments"), { empty: "不限", value: current[j] ?? required[j] ?? "" }))));
  }
  teamSize.addEventListener("input", drawRequired);
  drawRequired();

  function drawMandatory() {
    clear(mandatoryList, table([
      { label: "机构", value: (m) => mandatoryNames[m.institution_id] || m.institution_id },
      { label: "必查理由（公开）", value: (m) => m.reason },
      { label: "操作", value: (m) => h("button", { type: "button", class: "secondary small", text: "移除",
        on: { click: () => { mandatory.splice(mandatory.indexOf(m), 1); drawMandatory(); } } }) },
    ], mandatory, "没有必查对象"));
  }
  if (mandatory.length) {
    const names = await Promise.all(mandatory.map((m) => session.get(`/institutions/${m.institution_id}`).then((i) => i.name).catch(() => null)));
    mandatory.forEach((m, i) => { mandatoryNames[m.institution_id] = names[i]; });
  }
  drawMandatory();
  const found = select("mandatory_pick", [], { empty: "请先搜索" });
  const reason = input("mandatory_reason", { maxlength: 200, placeholder: "如：投诉较多、上次检查不合格" });
  const searchQ = searchBox("mandatory_q", "输入机构名称后按回车", async (q) => {
    const data = await session.get("/institutions", { q, per_page: 50, status: "active" });
    clear(found, h("option", { value: "", text: data.items.length ? "请选择" : "没有匹配的机构" }),
      data.items.map((i) => h("option", { value: i.id, text: `${i.name}（${regionName(ctx, i.region)}）` })));
  });
  const addMandatory = h("button", { type: "button", class: "secondary", text: "加入必查名单" });
  addMandatory.addEventListener("click", () => {
    if (!found.value || !reason.value.trim()) return;
    if (!mandatory.some((m) => m.institution_id === found.value)) {
      mandatoryNames[found.value] = found.selectedOptions[0].textContent;
      mandatory.push({ institution_id: found.value, reason: reason.value.trim() });
    }
    reason.value = "";
    drawMandatory();
  });

  const byRatio = h("input", { type: "radio", name: "size_mode", value: "ratio", checked: p.count == null });
  const byCount = h("input", { type: "radio", name: "size_mode", value: "count", checked: p.count != null });
  const checklistOptions = checklists.items.map((c) => ({ code: c.code, label: `${c.title}（${c.code}）` }));

  const el = form([
    section("计划", h("div", { class: "form-grid" },
      labelled("计划名称", input("name", { required: true, maxlength: 128, value: p.name || "" })),
      labelled("计划范围", select("region", regionOptions(ctx), { value: p.region || ctx.session.user.region })),
      labelled("检查期间起", input("period_start", { type: "date", required: true, value: p.period_start || "" })),
      labelled("检查期间止", input("period_end", { type: "date", required: true, value: p.period_end || "" })),
      labelled("检查表（无适用时）", select("checklist_code", checklistOptions, { value: p.checklist_code || "DB37T4086-2020" }))),
    field("抽查事项", checkboxes("matters", matters.map((m) => ({ code: m.code, label: `${m.code} ${m.name}` })), p.matters || [])),
    field("参与部门（多个即联合抽查）", checkboxes("departments", labels.options("departments"), p.departments || []))),
    section("抽查对象", h("div", { class: "form-grid" },
      labelled("只抽取以下区划", select("region_prefix", regionOptions(ctx), { empty: "计划范围内全部", value: filters.region_prefix || "" }))),
    field("机构类型（不选即全部）", checkboxes("kinds", labels.options("institution_kinds"), filters.kinds || [])),
    field("服务模式（不选即全部）", checkboxes("tags", labels.options("service_tags"), filters.tags || [])),
    field("机构状态", checkboxes("statuses", labels.options("institution_statuses"), filters.statuses || ["active"])),
    h("div", { class: "form-grid" },
      h("fieldset", { class: "checks" }, h("legend", { text: "抽取规模" }),
        h("label", { class: "check" }, byRatio, h("span", { text: "按比例" })), h("label", { class: "check" }, byCount, h("span", { text: "按数量" }))),
      labelled("抽查比例（0–1 的小数，如 0.1 即 10%）", input("ratio", { inputmode: "decimal", value: p.ratio ? String(Number(p.ratio)) : "0.1" })),
      labelled("抽查数量（家）", input("count", { type: "number", min: 1, value: p.count ? String(p.count) : "" })),
      labelled("分层方式", select("stratification", labels.options("stratifications"), { value: p.stratification || "county" })),
      labelled("每层至少抽取", input("min_per_stratum", { type: "number", min: 0, value: String(p.min_per_stratum ?? 1) })),
      labelled("排除近期已检查（天，可空）", input("exclude_inspected_within_days", { type: "number", min: 1,
        value: p.exclude_inspected_within_days ? String(p.exclude_inspected_within_days) : "" }))),
    checkbox("risk_weighting", "按风险加权（有问题、逾期、投诉、答复被退回的机构被抽中的概率更高）", p.risk_weighting ?? true),
    h("h3", { text: "必查对象（重点对象，理由公开）" }), mandatoryList,
    h("div", { class: "form-grid" }, labelled("查找机构", searchQ), labelled("机构", found), labelled("必查理由", reason)),
    h("div", { class: "actions" }, addMandatory)),
    section("检查组规则", h("div", { class: "form-grid" },
      labelled("每组人数", teamSize),
      labelled("每名检查人员本期任务上限", input("load_cap", { type: "number", min: 1, max: 1000, value: String(p.load_cap || 25) }))),
    requiredBox,
    checkbox("cross_region", "异地检查（检查人员不得来自被检查机构所在区县）", p.cross_region ?? false),
    checkbox("no_repeat_lead", "同一机构不连续由同一人担任组长", p.no_repeat_lead ?? true)),
  ], async (formEl) => {
    const v = values(formEl, ["matters", "departments", "kinds", "tags", "statuses", "required_department"]);
    const requiredDepartments = [];
    for (const d of v.required_department) { if (!d) break; requiredDepartments.push(d); }
    const body = {
      name: v.name, region: v.region, period_start: v.period_start, period_end: v.period_end, matters: v.matters,
      checklist_code: v.checklist_code, departments: v.departments,
      filters: { region_prefix: v.region_prefix || null, kinds: v.kinds, tags: v.tags, statuses: v.statuses },
      ratio: v.size_mode === "ratio" ? v.ratio : null, count: v.size_mode === "count" ? Number(v.count) || null : null,
      stratification: v.stratification, min_per_stratum: Number(v.min_per_stratum || 0), risk_weighting: v.risk_weighting,
      exclude_inspected_within_days: v.exclude_inspected_within_days ? Number(v.exclude_inspected_within_days) : null,
      mandatory, team_size: Number(v.team_size), required_departments: requiredDepartments,
      load_cap: Number(v.load_cap), cross_region: v.cross_region, no_repeat_lead: v.no_repeat_lead,
    };
    const saved = plan ? await session.patch(`/plans/${plan.id}`, body) : await session.post("/plans", body);
    ctx.navigate(`/plans/${saved.id}`);
    return "已保存";
  }, { submit: plan ? "保存修改" : "保存计划草稿", cls: "plan-form" });
  return el;
}

async function newPlanPage(ctx) {
  append(ctx.main, [heading("新建抽查计划"), tabs(ctx, TABS), await planForm(ctx, null)]);
}

async function editPlanPage(ctx) {
  const plan = await ctx.session.get(`/plans/${ctx.params.id}`);
  append(ctx.main, [heading(`修改计划：${plan.name}`), tabs(ctx, TABS, "/plans"), await planForm(ctx, plan)]);
}

// ---------------------------------------------------------------- a plan and its draws

function planSummary(ctx, plan, matterNames) {
  const { labels } = ctx;
  const f = plan.filters || {};
  const names = (table, codes) => (codes && codes.length ? codes.map((c) => labels.name(table, c)).join("、") : "不限");
  return dl([
    ["状态", labels.name("plan_states", plan.state)],
    ["计划范围", `${regionName(ctx, plan.region)}（${plan.region}）`],
    ["检查期间", `${plan.period_start} 至 ${plan.period_end}`],
    ["抽查事项", plan.matters.length ? plan.matters.map((m) => matterNames[m] || m).join("；") : "未选择"],
    ["检查表（无适用时）", plan.checklist_code],
    ["参与部门", names("departments", plan.departments)],
    ["抽取区划", f.region_prefix ? regionName(ctx, f.region_prefix) : "计划范围内全部"],
    ["机构类型", names("institution_kinds", f.kinds)],
    ["服务模式", f.tags && f.tags.length ? f.tags.join("、") : "不限"],
    ["机构状态", names("institution_statuses", f.statuses)],
    ["抽取规模", plan.ratio ? `比例 ${plan.ratio}` : `${plan.count} 家`],
    ["分层", `${labels.name("stratifications", plan.stratification)}，每层至少 ${plan.min_per_stratum} 家`],
    ["风险加权", plan.risk_weighting ? "是" : "否"],
    ["排除近期已检查", plan.exclude_inspected_within_days ? `${plan.exclude_inspected_within_days} 天内` : "否"],
    ["必查对象", `${plan.mandatory.length} 家`],
    ["检查组", `每组 ${plan.team_size} 人；${plan.required_departments.length ? `依次须来自 ${plan.required_departments.map((d) => labels.name("departments", d)).join("、")}` : "部门不限"}`],
    ["任务上限", `每人 ${plan.load_cap} 项`],
    ["异地检查", plan.cross_region ? "是" : "否"],
    ["组长不连续", plan.no_repeat_lead ? "是" : "否"],
  ]);
}

function teamText(ctx, team) {
  return h("ol", { class: "team" }, team.map((m, j) => h("li", {},
    `${m.name || m.id}${j === 0 ? "（组长）" : ""} `, h("span", { class: "muted", text: `${ctx.labels.name("departments", m.department)} ${m.certificate_no || ""}` }))));
}

export async function drawPanel(ctx, draw) {
  const { session, labels } = ctx;
  const verdict = h("div", { class: "verdict", "aria-live": "polite" });
  const drawn = Boolean(draw.seed);
  return h("div", { class: "draw-panel", dataset: { draw: draw.id } },
    section(`第 ${draw.seq} 次承诺：${labels.name("draw_states", draw.state)}`, dl([
      ["承诺值（commitment）", h("span", { class: "hash", text: draw.commitment })],
      ["承诺时间", fmtTime(draw.committed_at)],
      ["冻结的候选机构 / 检查人员", `${draw.candidates} 家 / ${draw.inspectors} 人`],
      ["公开随机源", draw.public_entropy],
      ["随机数（nonce，抽取后公开）", draw.nonce ? h("span", { class: "hash", text: draw.nonce }) : "抽取前保密"],
      ["种子（seed）", draw.seed ? h("span", { class: "hash", text: draw.seed }) : null],
      ["抽取时间", draw.drawn_at ? fmtTime(draw.drawn_at) : null],
      ["取消", draw.cancelled_at ? `${fmtTime(draw.cancelled_at)}：${draw.cancel_reason}` : undefined],
    ]), h("div", { class: "row" },
      actionButton("下载公开记录（record.json）", () => session.download(`/draws/${draw.id}/record.json`, `draw-${draw.id}.json`), { cls: "secondary" }),
      drawn ? actionButton("用验证程序复算", async () => {
        const r = await session.get(`/draws/${draw.id}/verify`);
        clear(verdict, r.ok ? okBox("验证通过：承诺值、种子、抽中机构和检查组均可由公开记录复算一致。")
          : h("div", { class: "alert error", role: "alert" }, h("strong", { text: "验证未通过" }), h("ul", {}, r.differences.map((d) => h("li", { text: d })))));
      }, { cls: "secondary" }) : null,
      h("a", { href: draw.public_url, target: "_blank", rel: "noopener", text: "公开页面" })), verdict),
    draw.failed_attempts && draw.failed_attempts.length ? section("失败的抽取尝试（公开）", table([
      { label: "时间", value: (a) => fmtTime(a.at) },
      { label: "公开随机源", value: (a) => a.public_entropy },
      { label: "种子", value: (a) => h("span", { class: "hash", text: a.seed }) },
      { label: "原因", value: (a) => a.message },
    ], draw.failed_attempts)) : null,
    drawn ? section(`抽中的机构（${draw.targets.length} 家）`, table([
      { label: "机构", value: (t) => [t.name || t.institution_id, t.mandatory ? [" ", badge("必查", "warn")] : null] },
      { label: "区划", value: (t) => regionName(ctx, t.region) },
      { label: "检查组", value: (t) => teamText(ctx, t.team) },
    ], draw.targets)) : null,
    draw.amendments && draw.amendments.length ? section("检查组调整（公开）", table([
      { label: "机构", value: (a) => a.institution_name },
      { label: "被替换", value: (a) => a.replaced_name },
      { label: "替换为", value: (a) => `${a.replacement_name}（${a.replacement_certificate_no}）` },
      { label: "理由", value: (a) => a.reason },
      { label: "时间", value: (a) => fmtTime(a.at) },
    ], draw.amendments)) : null);
}

async function planPage(ctx) {
  const { session, params, labels } = ctx;
  const plan = await session.get(`/plans/${params.id}`);
  const [matters, draws] = await Promise.all([session.get("/matters"), session.get(`/plans/${plan.id}/draws`)]);
  const matterNames = Object.fromEntries(matters.map((m) => [m.code, `${m.code} ${m.name}`]));
  const current = plan.current_draw_id ? await session.get(`/draws/${plan.current_draw_id}`) : null;
  const reload = () => ctx.navigate(location.pathname, { replace: true });
  const act = [];
  if (plan.actions.includes("update")) act.push(h("a", { class: "button secondary", href: `${ctx.base}/plans/${plan.id}/edit`, text: "修改计划" }));
  if (plan.actions.includes("commit")) {
    act.push(actionButton("提交承诺（冻结候选名单并公开承诺值）", async () => { await session.post(`/plans/${plan.id}/commit`); reload(); }));
  }
  if (plan.actions.includes("delete")) {
    act.push(actionButton("删除草稿", async () => { await session.del(`/plans/${plan.id}`); ctx.navigate("/plans"); }, { cls: "danger" }));
  }
  const forms = [];
  if (plan.actions.includes("draw")) {
    const entropy = textarea("public_entropy", { rows: 2, required: true, maxlength: 256,
      placeholder: "如：2026-11-20 福利彩票3D 开奖号 527 + 见证人 张伟/李娜" });
    forms.push(section("抽取", h("p", { class: "muted", text: "输入抽取时由见证人提供或取自公开来源（如彩票开奖号）的随机串，原样记录并公开。承诺已公开，结果由承诺和随机源唯一确定，不能重复抽取。" }),
      form([field("公开随机源", entropy)], async () => {
        await session.post(`/plans/${plan.id}/draw`, { public_entropy: entropy.value.trim() });
        reload();
        return "已抽取";
      }, { submit: "抽取", cls: "draw-form" })));
  }
  if (plan.actions.includes("amend") && current) {
    const target = select("institution_id", current.targets.map((t) => ({ code: t.institution_id, label: t.name || t.institution_id })), { required: true });
    const member = select("inspector_id", [], { required: true });
    const fillTeam = () => {
      const t = current.targets.find((x) => x.institution_id === target.value);
      clear(member, (t ? t.team : []).map((m) => h("option", { value: m.id, text: `${m.name}（${labels.name("departments", m.department)}）` })));
    };
    target.addEventListener("change", fillTeam);
    fillTeam();
    const reason = textarea("reason", { rows: 2, required: true, maxlength: 500, placeholder: "如：病假；新发现的利害关系" });
    forms.push(section("调整检查组（公开，须说明理由）", form([h("div", { class: "form-grid" }, labelled("机构", target), labelled("被替换的检查人员", member)),
      labelled("理由", reason)], async () => {
      await session.post(`/plans/${plan.id}/amendments`, { institution_id: target.value, inspector_id: member.value, reason: reason.value.trim() });
      reload();
      return "已调整";
    }, { submit: "按规则抽取替换人员", cls: "amend-form" })));
  }
  if (plan.actions.includes("cancel")) {
    const reason = textarea("reason", { rows: 2, required: true, maxlength: 500 });
    forms.push(section("取消（公开，须说明理由）", form([labelled("取消理由", reason)], async () => {
      await session.post(`/plans/${plan.id}/cancel`, { reason: reason.value.trim() });
      reload();
      return "已取消";
    }, { submit: "取消本次承诺", cls: "cancel-form" })));
  }
  const names = Object.fromEntries((current ? current.targets : []).map((t) => [t.institution_id, t.name]));
  const missing = plan.mandatory.map((m) => m.institution_id).filter((id) => !names[id]).slice(0, 50);
  (await Promise.all(missing.map((id) => session.get(`/institutions/${id}`).catch(() => null))))
    .forEach((inst) => { if (inst) names[inst.id] = inst.name; });
  append(ctx.main, [
    heading(plan.name, ...act), tabs(ctx, TABS, "/plans"),
    section("计划内容", planSummary(ctx, plan, matterNames),
      plan.mandatory.length ? [h("h3", { text: "必查对象" }), table([
        { label: "机构", value: (m) => h("a", { href: `${ctx.base}/institutions/${m.institution_id}`, text: names[m.institution_id] || "查看机构" }) },
        { label: "理由", value: (m) => m.reason }], plan.mandatory)] : null),
    current ? await drawPanel(ctx, current) : null,
    forms,
    section("本计划的全部承诺", table([
      { label: "序号", value: (d) => h("a", { href: `${ctx.base}/draws/${d.id}`, text: `第 ${d.seq} 次` }) },
      { label: "状态", value: (d) => labels.name("draw_states", d.state) },
      { label: "承诺时间", value: (d) => fmtTime(d.committed_at) },
      { label: "抽取时间", value: (d) => (d.drawn_at ? fmtTime(d.drawn_at) : null) },
      { label: "取消时间", value: (d) => (d.cancelled_at ? fmtTime(d.cancelled_at) : null) },
    ], draws, "尚未提交承诺")),
  ]);
}

async function drawsPage(ctx) {
  const { session, labels } = ctx;
  const list = listing(ctx, {
    fetch: (params) => session.get("/draws", params),
    columns: [
      { label: "计划", value: (d) => h("a", { href: `${ctx.base}/draws/${d.id}`, text: d.plan_name || d.plan_id }) },
      { label: "第几次承诺", value: (d) => String(d.seq) },
      { label: "状态", value: (d) => labels.name("draw_states", d.state) },
      { label: "承诺时间", value: (d) => fmtTime(d.committed_at) },
      { label: "抽中机构数", value: (d) => (d.target_count == null ? null : String(d.target_count)) },
    ],
    empty: "暂无抽取记录",
  });
  append(ctx.main, [heading("抽取记录"), tabs(ctx, TABS), list.el]);
  await list.load();
}

async function drawPage(ctx) {
  const draw = await ctx.session.get(`/draws/${ctx.params.id}`);
  append(ctx.main, [heading(`抽取记录：${draw.plan.name}`, h("a", { class: "button secondary", href: `${ctx.base}/plans/${draw.plan_id}`, text: "查看计划" })),
    tabs(ctx, TABS, "/draws"), await drawPanel(ctx, draw)]);
}

export const drawRoutes = [
  ["/plans", plansPage],
  ["/plans/new", newPlanPage],
  ["/plans/:id", planPage],
  ["/plans/:id/edit", editPlanPage],
  ["/draws", drawsPage],
  ["/draws/:id", drawPage],
];
