// Service worker of the inspector's app (scope /app/). Precaches the shell of this version and
// serves it with no network. API requests are not touched: the app keeps its data in IndexedDB.
// A new version installs in the background and waits; the app offers it and the inspector chooses
// when to switch (never forced mid-inspection).
const VERSION = {{ version|tojson }};
const SHELL = "inspector-shell-" + VERSION;
const PRECACHE = {{ precache|tojson }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) =>
    cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" })))));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith("inspector-shell-") && key !== SHELL) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skip-waiting") self.skipWaiting();
  if (event.data && event.data.type === "claim") event.waitUntil(self.clients.claim());
  if (event.data && event.data.type === "version" && event.ports[0]) event.ports[0].postMessage(VERSION);
});

async function fromShell(request) {
  const cache = await caches.open(SHELL);
  const url = new URL(request.url);
  const key = request.mode === "navigate" ? "/app/" : url.pathname;
  const hit = await cache.match(key);
  return hit || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === "/app/sw.js") return;
  if (url.pathname === "/app/" || url.pathname === "/app/manifest.webmanifest" || url.pathname.startsWith("/app/static/")) {
    event.respondWith(fromShell(event.request));
  }
});
