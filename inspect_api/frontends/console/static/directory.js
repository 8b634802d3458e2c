// 名录库: institutions and inspectors (search, filters, export), spreadsheet import with a dry-run preview,
// conflicts of interest (回避), the regions below the office.

import { heading, tabs } from "../../ui/static/app.js";
import {
  actionButton, append, badge, clear, dl, field, fmtTime, form, h, input, okBox, section, select, table, textarea,
} from "../../ui/static/ui.js";
import { labelled, listing, regionName, regionOptions, searchBox } from "./common.js";

const TABS = [["/institutions", "机构名录"], ["/inspectors", "检查人员名录"], ["/import", "批量导入"],
  ["/conflicts", "回避关系"], ["/regions", "行政区划"]];

function exportTools(ctx, what) {
  return (current) => h("div", { class: "row tools" },
    actionButton("导出 Excel", () => ctx.session.download(`/${what}/export.xlsx`, `${what}.xlsx`, current()), { cls: "secondary" }),
    actionButton("导出 CSV", () => ctx.session.download(`/${what}/export.csv`, `${what}.csv`, current()), { cls: "secondary" }),
    h("a", { class: "button secondary", href: `${ctx.base}/import?what=${what}`, text: "批量导入" }));
}

async function institutionsPage(ctx) {
  const { labels, session } = ctx;
  const list = listing(ctx, {
    filters: [
      labelled("名称包含", input("q", { type: "search", maxlength: 64 })),
      labelled("行政区划", select("region", regionOptions(ctx), { empty: "全部" })),
      labelled("机构类型", select("kind", labels.options("institution_kinds"), { empty: "全部" })),
      labelled("状态", select("status", labels.options("institution_statuses"), { empty: "全部" })),
    ],
    fetch: (params) => session.get("/institutions", params),
    tools: exportTools(ctx, "institutions"),
    columns: [
      { label: "机构名称", value: (i) => h("a", { href: `${ctx.base}/institutions/${i.id}`, text: i.name }) },
      { label: "类型", value: (i) => i.kind_label },
      { label: "区划", value: (i) => regionName(ctx, i.region) },
      { label: "状态", value: (i) => labels.name("institution_statuses", i.status) },
      { label: "历史问题 / 逾期", value: (i) => `${(i.risk && i.risk.past_findings) || 0} / ${(i.risk && i.risk.overdue_rectifications) || 0}` },
      { label: "投诉", value: (i) => String(i.complaint_count || 0) },
      { label: "联系人", value: (i) => [i.contact_name || "—", " ", i.contact_phone || ""] },
    ],
    empty: "没有符合条件的机构",
  });
  append(ctx.main, [heading("机构名录"), tabs(ctx, TABS), list.el]);
  await list.load();
}

async function institutionPage(ctx) {
  const { session, params, labels } = ctx;
  const inst = await session.get(`/institutions/${params.id}`);
  const [orders, assignments] = await Promise.all([
    session.get("/rectifications", { institution_id: inst.id, per_page: 50 }),
    session.get("/assignments", { institution_id: inst.id, per_page: 50 })]);
  const qr = h("img", { alt: "签到二维码" });
  session.dataUrl(`/institutions/${inst.id}/qr.png`).then((u) => { qr.src = u; }).catch(() => { qr.alt = "二维码无法显示"; });
  append(ctx.main, [
    heading(inst.name, h("a", { class: "button secondary", href: inst.public_url, target: "_blank", rel: "noopener", text: "公开页面" })),
    tabs(ctx, TABS, "/institutions"),
    section("基本信息", dl([
      ["统一社会信用代码", h("span", { class: "mono", text: inst.credit_code })], ["机构类型", inst.kind_label],
      ["服务模式", (inst.tags || []).join("、")], ["行政区划", `${regionName(ctx, inst.region)}（${inst.region}）`],
      ["地址", inst.address], ["位置（WGS-84）", inst.location ? `${inst.location.lat}, ${inst.location.lon}` : null],
      ["养老床位 / 医疗床位", `${inst.care_beds} / ${inst.medical_beds}`], ["联系人", inst.contact_name],
      ["联系电话", inst.contact_phone], ["状态", labels.name("institution_statuses", inst.status)],
      ["投诉数", inst.complaint_count], ["历史问题数", inst.risk ? inst.risk.past_findings : 0],
      ["逾期整改次数", inst.risk ? inst.risk.overdue_rectifications : 0], ["答复被退回次数", inst.risk ? inst.risk.rejected_answers : 0],
      ["最近检查", inst.risk && inst.risk.last_inspected_at ? fmtTime(inst.risk.last_inspected_at) : null],
    ])),
    section("证照", table([
      { label: "类别", value: (l) => labels.name("licence_kinds", l.kind) },
      { label: "编号", value: (l) => l.number },
      { label: "有效期", value: (l) => `${l.valid_from || "—"} 至 ${l.valid_until || "—"}` },
    ], inst.licences || [], "未登记证照")),
    section("签到二维码", h("div", { class: "qr" }, qr), h("p", { class: "muted", text: `海报版本 ${inst.qr_version}` })),
    section("检查任务", table([
      { label: "截止日期", value: (a) => a.due_date },
      { label: "来源", value: (a) => labels.name("assignment_sources", a.source) },
      { label: "状态", value: (a) => labels.name("assignment_statuses", a.status) },
      { label: "检查", value: (a) => (a.inspection ? h("a", { href: `${ctx.base}/inspections/${a.id}`, text: a.inspection.code }) : "未开始") },
    ], assignments.items, "暂无检查任务")),
    section("整改通知书", table([
      { label: "编号", value: (o) => h("a", { href: `${ctx.base}/orders/${o.id}`, text: o.number }) },
      { label: "状态", value: (o) => o.status_name },
      { label: "未办结 / 逾期", value: (o) => `${o.open_findings} / ${o.overdue_findings}` },
      { label: "下达时间", value: (o) => fmtTime(o.issued_at) },
    ], orders.items, "暂无整改通知书")),
  ]);
}

async function inspectorsPage(ctx) {
  const { labels, session } = ctx;
  const list = listing(ctx, {
    filters: [
      labelled("姓名或证号", input("q", { type: "search", maxlength: 64 })),
      labelled("所属部门", select("department", labels.options("departments"), { empty: "全部" })),
      labelled("行政区划", select("region", regionOptions(ctx), { empty: "全部" })),
      labelled("在岗情况", select("active", [{ code: "true", label: "在岗" }, { code: "false", label: "不在岗" }], { empty: "全部" })),
    ],
    fetch: (params) => session.get("/inspectors", params),
    tools: exportTools(ctx, "inspectors"),
    columns: [
      { label: "姓名", value: (i) => h("a", { href: `${ctx.base}/inspectors/${i.id}`, text: i.name }) },
      { label: "执法证号", value: (i) => h("span", { class: "mono", text: i.certificate_no }) },
      { label: "所属部门", value: (i) => i.department_label },
      { label: "区划", value: (i) => regionName(ctx, i.region) },
      { label: "资质", value: (i) => (i.qualifications || []).join("、") },
      { label: "在岗", value: (i) => (i.active ? "在岗" : badge("不在岗", "warn")) },
      { label: "年度任务上限", value: (i) => String(i.load_cap) },
    ],
    empty: "没有符合条件的检查人员",
  });
  append(ctx.main, [heading("检查人员名录"), tabs(ctx, TABS), list.el]);
  await list.load();
}

async function inspectorPage(ctx) {
  const { session, params, labels } = ctx;
  const insp = await session.get(`/inspectors/${params.id}`);
  const conflicts = await session.get("/conflicts", { inspector_id: insp.id, per_page: 100 });
  append(ctx.main, [
    heading(insp.name), tabs(ctx, TABS, "/inspectors"),
    section("基本信息", dl([
      ["执法证号", h("span", { class: "mono", text: insp.certificate_no })], ["所属部门", insp.department_label],
      ["行政区划", `${regionName(ctx, insp.region)}（${insp.region}）`], ["资质", (insp.qualifications || []).join("、")],
      ["在岗", insp.active ? "在岗" : "不在岗"], ["年度任务上限", insp.load_cap], ["联系电话", insp.phone],
      ["登录账号", insp.user_id ? "已开通" : "未开通"],
    ])),
    section("回避关系", conflictTable(ctx, conflicts.items, labels)),
  ]);
}

function conflictTable(ctx, rows, labels, onDelete = null) {
  return table([
    { label: "检查人员", value: (c) => h("a", { href: `${ctx.base}/inspectors/${c.inspector_id}`, text: c.inspector_name || c.inspector_id }) },
    { label: "机构", value: (c) => h("a", { href: `${ctx.base}/institutions/${c.institution_id}`, text: c.institution_name || c.institution_id }) },
    { label: "回避原因", value: (c) => c.reason_label },
    { label: "来源", value: (c) => labels.name("conflict_sources", c.source) },
    { label: "有效期", value: (c) => `${c.valid_from || "—"} 至 ${c.valid_until || "—"}` },
    { label: "说明", value: (c) => c.note },
    ...(onDelete ? [{ label: "操作", value: (c) => actionButton("删除", () => onDelete(c), { cls: "secondary small" }) }] : []),
  ], rows, "暂无回避关系");
}

// ---------------------------------------------------------------- import with a dry-run preview

async function importPage(ctx) {
  const { session } = ctx;
  const what = select("what", [{ code: "institutions", label: "机构名录" }, { code: "inspectors", label: "检查人员名录" }],
    { value: ctx.query.get("what") || "institutions" });
  const file = input("file", { type: "file", accept: ".xlsx,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv", required: true });
  const out = h("div", { class: "import-result", "aria-live": "polite" });
  const template = actionButton("下载导入模板", () => session.download(`/${what.value}/import-template.xlsx`, `${what.value}-template.xlsx`), { cls: "secondary" });

  function upload(dryRun) {
    const data = new FormData();
    data.append("file", file.files[0], file.files[0].name);
    return session.upload(`/${what.value}/import`, data, { dry_run: dryRun ? "true" : "false" });
  }

  function report(r, done) {
    const counts = dl([["数据行数", r.rows], ["将新增 / 已新增", r.created], ["将更新 / 已更新", r.updated], ["无变化", r.unchanged]]);
    if (!r.valid) {
      return [h("div", { class: "alert error", role: "alert" }, h("strong", { text: `检查发现 ${r.errors.length} 处错误，未写入任何数据。请修改文件后重新检查。` })),
        table([{ label: "行", value: (e) => String(e.row) }, { label: "列", value: (e) => e.column }, { label: "问题", value: (e) => e.message }],
          r.errors), counts];
    }
    if (done) return [okBox(`导入完成：新增 ${r.created} 条，更新 ${r.updated} 条，无变化 ${r.unchanged} 条。`), counts];
    const confirm = actionButton("确认导入", async () => {
      clear(out, report(await upload(false), true));
    });
    return [h("div", { class: "alert ok", role: "status", text: "检查通过：文件中没有错误。确认后一次写入全部行（全部成功或全部不写入）。" }), counts, confirm];
  }

  const check = form([labelled("导入内容", what), field("文件", file, "Excel（.xlsx）或 CSV（UTF-8 或 GB18030），第一行为中文表头")], async () => {
    if (!file.files.length) throw new Error("请选择要导入的文件");
    clear(out, report(await upload(true), false));
    return null;
  }, { submit: "检查文件（不写入）", cls: "import-form" });
  file.addEventListener("change", () => clear(out));
  what.addEventListener("change", () => clear(out));
  append(ctx.main, [heading("批量导入"), tabs(ctx, TABS),
    section("第一步：检查文件", h("p", { class: "muted", text: "先检查，系统逐行列出每一处错误（行号与列名）；检查通过后才能导入。按统一社会信用代码（机构）或执法证号（检查人员）新增或更新。" }),
      template, check),
    section("检查结果与导入", out)]);
}

// ---------------------------------------------------------------- conflicts

async function conflictsPage(ctx) {
  const { session, labels } = ctx;
  const results = h("div");
  async function reload() {
    const data = await session.get("/conflicts", { per_page: 100 });
    clear(results, conflictTable(ctx, data.items, labels, async (c) => {
      await session.del(`/conflicts/${c.id}`);
      await reload();
    }), data.total > data.items.length ? h("p", { class: "muted", text: `共 ${data.total} 条，显示前 ${data.items.length} 条` }) : null);
  }

  const inspector = select("inspector_id", [], { empty: "请先搜索", required: true });
  const institution = select("institution_id", [], { empty: "请先搜索", required: true });
  const fill = async (target, path, q, label) => {
    const data = await session.get(path, { q, per_page: 50 });
    clear(target, h("option", { value: "", text: data.items.length ? "请选择" : "没有匹配的记录" }),
      data.items.map((x) => h("option", { value: x.id, text: label(x) })));
  };
  const inspectorQ = searchBox("inspector_q", "输入姓名或证号后按回车",
    (q) => fill(inspector, "/inspectors", q, (x) => `${x.name}（${x.certificate_no}）`));
  const institutionQ = searchBox("institution_q", "输入机构名称后按回车", (q) => fill(institution, "/institutions", q, (x) => x.name));
  const reason = select("reason", labels.options("conflict_reasons"), { required: true });
  const note = textarea("note", { rows: 2, maxlength: 256 });
  const from = input("valid_from", { type: "date" });
  const until = input("valid_until", { type: "date" });
  const create = form([h("div", { class: "form-grid" },
    labelled("查找检查人员", inspectorQ), labelled("检查人员", inspector),
    labelled("查找机构", institutionQ), labelled("机构", institution),
    labelled("回避原因", reason), labelled("有效期起", from), labelled("有效期止", until)), labelled("说明", note)], async () => {
    const body = { inspector_id: inspector.value, institution_id: institution.value, reason: reason.value };
    if (note.value.trim()) body.note = note.value.trim();
    if (from.value) body.valid_from = from.value;
    if (until.value) body.valid_until = until.value;
    await session.post("/conflicts", body);
    await reload();
    return "已登记回避关系";
  }, { submit: "登记回避关系" });
  append(ctx.main, [heading("回避关系"), tabs(ctx, TABS),
    h("p", { class: "muted", text: "有回避关系的检查人员不会被抽中检查该机构。由任职经历自动生成的记录随任职经历变化，不能直接删除。" }),
    section("登记回避关系", create), section("本辖区的回避关系", results)]);
  await reload();
}

async function regionsPage(ctx) {
  const { labels } = ctx;
  append(ctx.main, [heading("行政区划"), tabs(ctx, TABS),
    h("p", { class: "muted", text: "本办公室可以查看和管理以下区划（含下级）的数据。" }),
    table([
      { label: "代码", value: (r) => h("span", { class: "mono", text: r.code }) },
      { label: "名称", value: (r) => r.name },
      { label: "级别", value: (r) => labels.name("region_levels", r.level) },
      { label: "上级", value: (r) => (r.parent ? `${regionName(ctx, r.parent)}（${r.parent}）` : "—") },
    ], ctx.regions || [])]);
}

export const directoryRoutes = [
  ["/institutions", institutionsPage],
  ["/institutions/:id", institutionPage],
  ["/inspectors", inspectorsPage],
  ["/inspectors/:id", inspectorPage],
  ["/import", importPage],
  ["/conflicts", conflictsPage],
  ["/regions", regionsPage],
];
