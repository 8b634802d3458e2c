// The frame of a front end: login, header and navigation, a small path router, the label tables.
//
// A front end calls start({...}) with its routes; each route draws into ``ctx.main``. Links inside the
// front end's base path navigate without reloading; the browser's back button works; every path answers
// the same shell from the server, so a reload or a pasted link opens the same page.

import { ApiError, Session } from "./api.js";
import { clear, errorBox, field, h, input } from "./ui.js";

const body = document.body;
const BASE = body.dataset.base || "";

class Labels {
  constructor(tables) { this.tables = tables || {}; }
  options(table) { return this.tables[table] || []; }
  name(table, code) {
    if (code === null || code === undefined || code === "") return "—";
    const row = this.options(table).find((o) => o.code === code);
    return row ? row.label : code;
  }
}

function compile(pattern) {
  const names = [];
  const source = pattern.replace(/:(\w+)/g, (_m, name) => { names.push(name); return "([^/]+)"; });
  return { regex: new RegExp(`^${source}/?$`), names };
}

export function start({ app, roles, title, nav, routes, wrongRole, onLogin }) {
  const session = new Session(app);
  const root = document.getElementById("app");
  const compiled = routes.map(([pattern, handler]) => ({ ...compile(pattern), handler }));
  const ctx = { session, labels: new Labels(), base: BASE, navigate, refreshNav: () => drawNav() };
  let header = null;
  let navEl = null;
  let main = null;
  let loginMessage = null;

  function path() {
    const p = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
    return p === "" ? "/" : p;
  }

  function navigate(to, { replace = false } = {}) {
    const url = to.startsWith(BASE) ? to : BASE + to;
    if (replace) history.replaceState(null, "", url);
    else history.pushState(null, "", url);
    render();
  }

  document.addEventListener("click", (event) => {
    const a = event.target.closest("a");
    if (!a || a.target || a.hasAttribute("download") || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || !(url.pathname === BASE || url.pathname.startsWith(`${BASE}/`))) return;
    event.preventDefault();
    history.pushState(null, "", url.pathname + url.search + url.hash);
    render();
  });
  window.addEventListener("popstate", render);
  session.onExpired = (message) => { loginMessage = message; drawLogin(); };

  function drawLogin() {
    document.title = `登录 - ${title}`;
    const username = input("username", { autocomplete: "username", required: true });
    const password = input("password", { type: "password", autocomplete: "current-password", required: true });
    const status = h("div", { class: "form-status", "aria-live": "polite" });
    if (loginMessage) status.append(errorBox({ message: loginMessage }));
    const button = h("button", { type: "submit", text: "登录" });
    const form = h("form", { class: "form login" }, field("用户名", username), field("密码", password),
      h("div", { class: "actions" }, button), status);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      button.disabled = true;
      clear(status);
      try {
        const user = await session.login(username.value.trim(), password.value);
        if (!roles.includes(user.role)) {
          await session.logout();
          throw new ApiError(403, "WRONG_FRONT_END", wrongRole);
        }
        loginMessage = null;
        await boot();
      } catch (err) {
        clear(status, errorBox(err));
      } finally {
        button.disabled = false;
      }
    });
    clear(root, h("main", { class: "login-page" }, h("h1", { text: title }), h("p", { class: "muted", text: "请使用所在单位分配的账号登录。" }), form));
    username.focus();
  }

  async function drawNav() {
    clear(navEl);
    const here = path();
    for (const item of nav) {
      const active = (item.match || [item.path]).some((m) => (m === "/" ? here === "/" : here === m || here.startsWith(`${m}/`)));
      const link = h("a", { href: BASE + item.path, text: item.label, "aria-current": active ? "page" : null });
      navEl.append(link);
      if (item.badge) {
        item.badge(ctx).then((n) => { if (n) link.append(h("span", { class: "count", text: String(n), "aria-label": `${n} 条未读` })); })
          .catch(() => null);
      }
    }
  }

  function drawFrame() {
    const user = session.user;
    navEl = h("nav", { class: "main-nav", "aria-label": "主导航" });
    const logout = h("button", { type: "button", class: "secondary small", text: "退出登录" });
    logout.addEventListener("click", async () => {
      await session.logout();
      loginMessage = null;
      history.pushState(null, "", `${BASE}/`);
      drawLogin();
    });
    header = h("header", { class: "top" },
      h("div", { class: "brand" }, h("a", { href: `${BASE}/`, text: title })),
      h("div", { class: "who" }, h("span", { class: "user", text: user.display_name || user.username }),
        ctx.scopeText ? h("span", { class: "scope", text: ctx.scopeText }) : null, logout),
      navEl);
    main = h("main", { id: "main", tabindex: "-1" });
    clear(root, header, main);
  }

  async function boot() {
    try {
      ctx.labels = new Labels(await session.get("/labels"));
      if (onLogin) await onLogin(ctx);
    } catch (err) {
      if (!session.user) return;  // the session expired: the login form is showing
      clear(root, h("main", {}, errorBox(err)));
      return;
    }
    drawFrame();
    await render();
  }

  async function render() {
    if (!session.user) { drawLogin(); return; }
    if (!main) return;
    drawNav();
    const here = path();
    const query = new URLSearchParams(location.search);
    clear(main, h("p", { class: "loading", text: "正在加载…" }));
    window.scrollTo(0, 0);
    for (const route of compiled) {
      const match = route.regex.exec(here);
      if (!match) continue;
      const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(match[i + 1])]));
      const page = h("div", { class: "page" });
      try {
        await route.handler({ ...ctx, params, query, main: page });
        clear(main, page);
      } catch (err) {
        if (!session.user) return;
        document.title = `出错了 - ${title}`;
        const hint = err.status === 404 ? "该记录不存在，或不在您的管辖范围内（其他区县、其他机构的数据无法查看）。" : null;
        clear(main, h("h1", { text: err.status === 404 ? "无法查看该页面" : "出错了" }), errorBox(err),
          hint ? h("p", { class: "muted", text: hint }) : null,
          h("p", {}, h("a", { href: `${BASE}/`, text: "返回首页" })));
      }
      return;
    }
    document.title = `页面不存在 - ${title}`;
    clear(main, h("h1", { text: "页面不存在" }), h("p", {}, h("a", { href: `${BASE}/`, text: "返回首页" })));
  }

  if (session.user) boot(); else drawLogin();
  return ctx;
}

// Sub-navigation of a section: [[path, label], ...]; the current path is marked.
export function tabs(ctx, items, current = null) {
  const here = current || location.pathname.slice(ctx.base.length);
  return h("nav", { class: "tabs", "aria-label": "分栏" }, items.map(([path, label]) => h("a", {
    href: ctx.base + path, text: label, "aria-current": here === path ? "page" : null,
  })));
}

// Page heading and document title in one call.
export function heading(text, ...extra) {
  document.title = `${text} - ${document.body.dataset.title}`;
  return h("div", { class: "page-head" }, h("h1", { text }), extra.length ? h("div", { class: "head-actions" }, extra) : null);
}
