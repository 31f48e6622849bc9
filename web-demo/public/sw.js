// App-shell cache for offline use: pages and built assets are served network-first and kept in a
// cache, so a second visit works without a network. Tables live in OPFS / IndexedDB, not here, and
// the multi-megabyte data files under /data/ are never cached.
const CACHE = "quiver-demo-v1";
const SHELL = ["/", "/index.html", "/manifest.webmanifest", "/icon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin || url.pathname.startsWith("/data/")) return;
  event.respondWith(
    fetch(event.request)
      .then((res) => {
        if (res.ok) {
          const copy = res.clone();
          event.waitUntil(caches.open(CACHE).then((c) => c.put(event.request, copy)));
        }
        return res;
      })
      .catch(() => caches.match(event.request, { ignoreSearch: event.request.mode === "navigate" })
        .then((hit) => hit ?? caches.match("/index.html"))
        .then((hit) => hit ?? Response.error())),
  );
});
