// IndexedDB, promise style. Every write transaction asks for strict durability: what the inspector
// entered is on disk before the app says it is saved (a killed browser loses nothing).

const DB_NAME = "inspector";
const DB_VERSION = 1;
let opening = null;

function upgrade(db) {
  db.createObjectStore("meta", { keyPath: "key" });
  db.createObjectStore("assignments", { keyPath: "id" });
  db.createObjectStore("bundles", { keyPath: "id" });
  db.createObjectStore("inspections", { keyPath: "id" });
  db.createObjectStore("answers", { keyPath: ["aid", "item_id"] }).createIndex("aid", "aid");
  const outbox = db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
  outbox.createIndex("aid", "aid");
  outbox.createIndex("client_id", "client_id", { unique: true });
  db.createObjectStore("files", { keyPath: "client_id" }).createIndex("aid", "aid");
  db.createObjectStore("thumbs", { keyPath: "id" }).createIndex("aid", "aid");
}

export function openDb() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.addEventListener("upgradeneeded", () => upgrade(request.result));
      request.addEventListener("success", () => {
        const db = request.result;
        db.addEventListener("versionchange", () => { db.close(); opening = null; });
        resolve(db);
      });
      request.addEventListener("error", () => { opening = null; reject(request.error); });
    });
  }
  return opening;
}

/** Close and delete the whole database (logout clears the device). */
export async function destroy() {
  if (opening) {
    const db = await opening.catch(() => null);
    if (db) db.close();
    opening = null;
  }
  await new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(DB_NAME);
    request.addEventListener("success", resolve);
    request.addEventListener("error", () => reject(request.error));
    request.addEventListener("blocked", resolve);
  });
}

export function done(request) {
  return new Promise((resolve, reject) => {
    request.addEventListener("success", () => resolve(request.result));
    request.addEventListener("error", () => reject(request.error));
  });
}

/**
 * Run fn(stores, transaction) in one transaction and resolve with its result once committed.
 * fn may be async but must only await IndexedDB requests (done()), or the transaction closes.
 */
export async function tx(names, mode, fn) {
  const db = await openDb();
  const list = Array.isArray(names) ? names : [names];
  return new Promise((resolve, reject) => {
    const t = db.transaction(list, mode, mode === "readwrite" ? { durability: "strict" } : undefined);
    const stores = Array.isArray(names) ? Object.fromEntries(list.map((n) => [n, t.objectStore(n)])) : t.objectStore(names);
    let out;
    let failure = null;
    t.addEventListener("complete", () => (failure ? reject(failure) : resolve(out)));
    t.addEventListener("abort", () => reject(failure || t.error || new DOMException("事务已中止", "AbortError")));
    let result;
    try {
      result = fn(stores, t);
    } catch (error) {
      result = Promise.reject(error);
    }
    Promise.resolve(result)
      .then((value) => { out = value; }, (error) => {
        failure = error;
        try { t.abort(); } catch { /* already finished */ }
      });
  });
}

export const get = (store, key) => tx(store, "readonly", (s) => done(s.get(key)));
export const put = (store, value) => tx(store, "readwrite", (s) => done(s.put(value)));
export const del = (store, key) => tx(store, "readwrite", (s) => done(s.delete(key)));
export const all = (store) => tx(store, "readonly", (s) => done(s.getAll()));
export const byIndex = (store, index, key) => tx(store, "readonly", (s) => done(s.index(index).getAll(key)));

export async function getMeta(key) {
  const row = await get("meta", key);
  return row ? row.value : null;
}

export function setMeta(key, value) {
  return put("meta", { key, value });
}
