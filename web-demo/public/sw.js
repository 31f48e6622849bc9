// Offline support for the demo. At install it caches every built asset listed in precache.json
// (written by the build, see vite.config.ts), so the second visit opens without a network even
// though the first visit's scripts loaded before this worker took control. Tables live in OPFS /
// IndexedDB, not here. The large data sets under /data/ are never cached; the sentence encoder's
// model files are, once the page asks (it does after a table that uses them is built), because
// searching documents offline needs them.
//
// Answers: pages network-first with the cached app shell as fallback; everything else cache-first.
// A script, style or WebAssembly file that is in no cache and cannot be fetched gets an error
// response — never index.html, which would leave the page waiting forever on a "script" of HTML.
const PRECACHE = "quiver-demo-precache-";
const RUNTIME = "quiver-demo-runtime";
const META = "quiver-demo-meta";
const MODEL = "/data/use-tfjs-energetic-ai/";

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const res = await fetch("/precache.json", { cache: "no-store" });
    if (!res.ok) throw new Error(`precache.json: ${res.status}`);
    const { version, urls, lazy = [] } = await res.json();
    const cache = await caches.open(PRECACHE + version);
    await cache.addAll(urls.map((u) => new Request(u, { cache: "reload" })));
    const meta = await caches.open(META);
    await meta.put("/__precache-version", new Response(version));
    await meta.put("/__build-urls", new Response(JSON.stringify([...urls, ...lazy])));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const meta = await caches.open(META);
    const current = await (await meta.match("/__precache-version"))?.text();
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith(PRECACHE) && n !== PRECACHE + current).map((n) => caches.delete(n)));
    // Assets of earlier builds cached at run time are dead weight once a new build is installed.
    const urls = new Set(JSON.parse((await (await meta.match("/__build-urls"))?.text()) ?? "[]"));
    const runtime = await caches.open(RUNTIME);
    for (const request of await runtime.keys()) {
      const path = new URL(request.url).pathname;
      if (path.startsWith("/assets/") && !urls.has(path)) await runtime.delete(request);
    }
    await self.clients.claim();
  })());
});

// The page sends { cache: [urls] } for files it wants kept (the encoder's model).
self.addEventListener("message", (event) => {
  const urls = event.data?.cache;
  if (!Array.isArray(urls)) return;
  event.waitUntil((async () => {
    const cache = await caches.open(RUNTIME);
    const missing = [];
    for (const u of urls) if (!(await cache.match(u, { ignoreVary: true }))) missing.push(u);
    await cache.addAll(missing);
    event.source?.postMessage({ cached: urls.length });
  })().catch((err) => event.source?.postMessage({ cacheError: String(err) })));
});

function offline(request) {
  const body = `${new URL(request.url).pathname} is not available offline and the network cannot be reached.`;
  return new Response(body, { status: 504, statusText: "Offline", headers: { "Content-Type": "text/plain; charset=utf-8" } });
}

// ignoreVary: servers answer "Vary: Origin", and a module script's request carries an Origin
// header that the precaching request did not; the file is the same either way.
async function fromCache(request) {
  return (await caches.match(request, { ignoreVary: true })) ?? undefined;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname.startsWith("/data/") && !url.pathname.startsWith(MODEL)) return;

  if (request.mode === "navigate") {
    event.respondWith((async () => {
      try {
        return await fetch(request);
      } catch {
        return (await caches.match("/", { ignoreVary: true })) ?? offline(request);
      }
    })());
    return;
  }

  event.respondWith((async () => {
    const hit = await fromCache(request);
    if (hit) return hit;
    try {
      const res = await fetch(request);
      // Built assets have content hashes in their names: a copy never goes stale.
      if (res.ok && (url.pathname.startsWith("/assets/") || url.pathname.startsWith(MODEL))) {
        const copy = res.clone();
        event.waitUntil(caches.open(RUNTIME).then((c) => c.put(request, copy)));
      }
      return res;
    } catch {
      return offline(request);
    }
  })());
});
