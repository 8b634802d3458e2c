// DOM helpers shared by the portal and the console. Text always goes in as text nodes, never as markup, so
// names and notes typed by anyone render as they are and run nothing.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "on") for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// ---------------------------------------------------------------- formatting (Beijing time, as labelled)

const DATE = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" });
const TIME = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
});

function parts(format, value) {
  const out = {};
  for (const p of format.formatToParts(new Date(value))) out[p.type] = p.value;
  return out;
}

export function fmtDate(value) {
  if (!value) return "—";
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  const p = parts(DATE, value);
  return `${p.year}-${p.month}-${p.day}`;
}

export function fmtTime(value) {
  if (!value) return "—";
  const p = parts(TIME, value);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

// A working-day count from the API: 0 = due today, negative = working days overdue.
export function daysLeft(n) {
  if (n === null || n === undefined) return null;
  if (n > 0) return badge(`剩 ${n} 个工作日`, n <= 3 ? "warn" : "ok");
  if (n === 0) return badge("今天到期", "warn");
  return badge(`逾期 ${-n} 个工作日`, "bad");
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind}`.trim(), text });
}

// ---------------------------------------------------------------- blocks

export function errorBox(err) {
  const box = h("div", { class: "alert error", role: "alert" }, h("strong", { text: err.message || "操作失败" }));
  const fields = err.details && err.details.fields;
  if (fields && typeof fields === "object") {
    const list = h("ul");
    for (const [name, messages] of Object.entries(fields)) {
      list.append(h("li", { text: `${name}：${[].concat(messages).map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join("；")}` }));
    }
    box.append(list);
  }
  if (err.details && Array.isArray(err.details.missing)) {
    box.append(h("p", { text: `缺少：${err.details.missing.join("、")}` }));
  }
  return box;
}

export function okBox(text) {
  return h("div", { class: "alert ok", role: "status", text });
}

export function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", { text: title }), ...children);
}

// label / value pairs
export function dl(pairs) {
  const list = h("dl", { class: "pairs" });
  for (const [label, value] of pairs) {
    if (value === undefined) continue;
    list.append(h("dt", { text: label }), h("dd", {}, value === null || value === "" ? "—" : value));
  }
  return list;
}

// columns: [{label, value: (row) => node|string}]; on narrow screens each row becomes a card (data-label).
export function table(columns, rows, empty = "暂无记录") {
  if (!rows.length) return h("p", { class: "empty", text: empty });
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col", text: c.label })));
  const body = rows.map((row) => h("tr", {}, columns.map((c) => {
    const value = c.value(row);
    const shown = value === null || value === undefined || value === "" ? "—" : value;
    const short = typeof shown === "string" && shown.length <= 16;  // names of codes, dates, counts: keep on one line
    return h("td", { "data-label": c.label, class: [c.cls, short ? "short" : ""].filter(Boolean).join(" ") }, h("div", { class: "cell" }, shown));
  })));
  return h("div", { class: "table-wrap" }, h("table", { class: "data" }, h("thead", {}, head), h("tbody", {}, body)));
}

export function pager(page, go) {
  const pages = Math.max(1, Math.ceil(page.total / page.per_page));
  const nav = h("nav", { class: "pager", "aria-label": "分页" },
    h("span", { text: `共 ${page.total} 条，第 ${page.page} / ${pages} 页` }));
  if (page.page > 1) nav.append(h("button", { type: "button", class: "secondary", text: "上一页", on: { click: () => go(page.page - 1) } }));
  if (page.page < pages) nav.append(h("button", { type: "button", class: "secondary", text: "下一页", on: { click: () => go(page.page + 1) } }));
  return nav;
}

// ---------------------------------------------------------------- forms

export function field(label, control, hint) {
  return h("label", { class: "field" }, h("span", { class: "label", text: label }), control, hint ? h("small", { text: hint }) : null);
}

export function input(name, attrs = {}) {
  return h("input", { name, id: attrs.id || undefined, ...attrs });
}

export function textarea(name, attrs = {}) {
  const { value, ...rest } = attrs;
  const el = h("textarea", { name, rows: 4, ...rest });
  if (value) el.value = value;
  return el;
}

// options: [{code, label}]
export function select(name, options, { value = "", empty = null, required = false } = {}) {
  const el = h("select", { name, required });
  if (empty !== null) el.append(h("option", { value: "", text: empty }));
  for (const o of options) el.append(h("option", { value: o.code, text: o.label }));
  const wanted = value == null ? "" : String(value);
  if (wanted !== "" || empty !== null) el.value = wanted;  // else the first option stays selected
  return el;
}

export function checkboxes(name, options, checked = []) {
  const set = new Set(checked);
  return h("fieldset", { class: "checks" }, options.map((o) => h("label", { class: "check" },
    h("input", { type: "checkbox", name, value: o.code, checked: set.has(o.code) }), h("span", { text: o.label }))));
}

export function checkbox(name, label, checked = false) {
  return h("label", { class: "check" }, h("input", { type: "checkbox", name, checked }), h("span", { text: label }));
}

// FormData → plain object: repeated names (checkbox groups) become arrays when ``lists`` names them.
export function values(form, lists = []) {
  const out = {};
  for (const name of lists) out[name] = [];
  for (const [key, value] of new FormData(form).entries()) {
    if (lists.includes(key)) out[key].push(value);
    else out[key] = typeof value === "string" ? value.trim() : value;
  }
  for (const el of form.querySelectorAll("input[type=checkbox]")) {
    if (!lists.includes(el.name)) out[el.name] = el.checked;
  }
  return out;
}

// A form whose submit runs ``action`` with the button disabled and the outcome (or the API's message) shown.
export function form(children, action, { submit = "提交", cls = "" } = {}) {
  const status = h("div", { class: "form-status", "aria-live": "polite" });
  const button = h("button", { type: "submit", text: submit });
  const el = h("form", { class: `form ${cls}`.trim(), novalidate: false }, children, h("div", { class: "actions" }, button), status);
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    clear(status);
    try {
      const message = await action(el);
      if (message) clear(status, okBox(message));
    } catch (err) {
      clear(status, errorBox(err));
    } finally {
      button.disabled = false;
    }
  });
  return el;
}

// A button that runs ``action`` (disabled meanwhile) and shows an error next to it.
export function actionButton(text, action, { cls = "" } = {}) {
  const status = h("span", { class: "inline-status", "aria-live": "polite" });
  const button = h("button", { type: "button", class: cls, text });
  button.addEventListener("click", async () => {
    button.disabled = true;
    clear(status);
    try {
      await action();
    } catch (err) {
      clear(status, errorBox(err));
    } finally {
      button.disabled = false;
    }
  });
  return h("span", { class: "action" }, button, status);
}

export function linkButton(href, text, cls = "button") {
  return h("a", { href, class: cls, text });
}

// Thumbnails of authenticated photos (loaded as data: URLs); ``marks(id)`` may add a badge under one.
export function photoStrip(session, ids, caption, marks = () => null) {
  if (!ids.length) return null;
  const strip = h("div", { class: "photos" });
  ids.forEach((id, i) => {
    const img = h("img", { alt: `${caption} ${i + 1}` });
    strip.append(h("figure", { dataset: { photo: id } }, img, h("figcaption", {}, `${caption} ${i + 1}`, marks(id))));
    session.dataUrl(`/photos/${id}/thumb`).then((url) => { img.src = url; }).catch(() => { img.alt = "照片无法显示"; });
  });
  return strip;
}
