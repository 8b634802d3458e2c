// The inbox (站内通知) of the signed-in user, shared by the portal and the console.

import { heading } from "./app.js";
import { actionButton, badge, clear, fmtTime, h, pager, select } from "./ui.js";

export function unreadCount(ctx) {
  return ctx.session.get("/me/notifications/unread-count").then((r) => r.unread);
}

// ``linkFor(notification)`` gives the page a notification points to (or null).
export async function inboxPage(ctx, linkFor) {
  const { session, main, query } = ctx;
  const filter = select("unread", [{ code: "true", label: "仅未读" }, { code: "false", label: "仅已读" }],
    { value: query.get("unread") || "", empty: "全部" });
  const list = h("div");
  const counter = h("p", { class: "muted" });
  main.append(heading("站内通知"), h("div", { class: "filters" }, h("label", { class: "field inline" },
    h("span", { class: "label", text: "显示" }), filter)), counter, list);

  async function load(page = 1) {
    const [data, unread] = await Promise.all([
      session.get("/me/notifications", { unread: filter.value, page, per_page: 20 }), unreadCount(ctx)]);
    counter.textContent = `未读 ${unread} 条`;
    const items = data.items.map((n) => {
      const link = linkFor(n);
      const item = h("article", { class: `notice-item ${n.read ? "read" : "unread"}` },
        h("div", { class: "notice-head" }, n.read ? badge("已读") : badge("未读", "warn"),
          h("strong", { text: n.title }), h("span", { class: "muted", text: fmtTime(n.created_at) })),
        h("p", { text: n.body }),
        h("div", { class: "row" }, link ? h("a", { href: link, text: "查看相关页面" }) : null,
          n.read ? null : actionButton("标为已读", async () => {
            await session.post(`/me/notifications/${n.id}/read`);
            ctx.refreshNav();
            await load(data.page);
          }, { cls: "secondary small" })));
      return item;
    });
    clear(list, items.length ? items : h("p", { class: "empty", text: "暂无通知" }), pager(data, load));
  }
  filter.addEventListener("change", () => load(1));
  await load(Number(query.get("page")) || 1);
}
