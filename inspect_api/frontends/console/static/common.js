// Pieces the console's areas share: region names, filtered and paginated lists.

import { clear, h, pager, table, values } from "../../ui/static/ui.js";

export function regionName(ctx, code) {
  if (!code) return "—";
  const name = ctx.regionNames && ctx.regionNames[code];
  return name ? `${name}` : code;
}

export function regionOptions(ctx) {
  return (ctx.regions || []).map((r) => ({ code: r.code, label: `${r.name}（${r.code}）` }));
}

// A filtered, paginated list. ``filters`` are form controls named as the API's query parameters (their
// initial values come from the page URL); ``fetch(params)`` calls the API with those plus page/per_page.
export function listing(ctx, { filters = [], fetch, columns, empty = "暂无记录", tools = null, perPage = 20 }) {
  const results = h("div", { class: "results" });
  const filterForm = h("form", { class: "filters" }, filters,
    filters.length ? h("div", { class: "actions" }, h("button", { type: "submit", text: "查询" })) : null);
  for (const control of filterForm.querySelectorAll("[name]")) {
    const initial = ctx.query.get(control.name);
    if (initial !== null && control.type !== "checkbox") control.value = initial;
  }
  const current = () => {
    const out = {};
    for (const [key, value] of Object.entries(values(filterForm))) if (value !== "" && value !== false) out[key] = value;
    return out;
  };

  async function load(page = 1) {
    const params = current();
    const url = new URLSearchParams({ ...params, ...(page > 1 ? { page } : {}) }).toString();
    history.replaceState(null, "", location.pathname + (url ? `?${url}` : ""));
    const data = await fetch({ ...params, page, per_page: perPage });
    clear(results, table(columns, data.items, empty), pager(data, (p) => load(p).catch(showError)));
  }
  function showError(err) {
    clear(results, h("div", { class: "alert error", role: "alert", text: err.message }));
  }
  filterForm.addEventListener("submit", (event) => { event.preventDefault(); load(1).catch(showError); });
  for (const control of filterForm.querySelectorAll("select")) {
    control.addEventListener("change", () => load(1).catch(showError));
  }
  const el = h("div", { class: "listing" }, filters.length ? filterForm : null, tools ? tools(current) : null, results);
  return { el, load: () => load(Number(ctx.query.get("page")) || 1), params: current };
}

export function labelled(label, control) {
  return h("label", { class: "field" }, h("span", { class: "label", text: label }), control);
}

// A search box inside a larger form: Enter or leaving the box runs ``onSearch`` instead of submitting the form.
export function searchBox(name, placeholder, onSearch) {
  const box = h("input", { name, type: "search", placeholder, autocomplete: "off" });
  let searched = null;
  const run = () => {
    if (box.value === searched) return;  // leaving the box after Enter must not reset a choice made since
    searched = box.value;
    onSearch(box.value);
  };
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); run(); }
  });
  box.addEventListener("change", run);
  return box;
}
