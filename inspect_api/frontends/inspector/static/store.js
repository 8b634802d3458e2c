// What the phone keeps: assignments, bundles, answers, the outbox (every write, with its client id,
// until the server has confirmed it) and the files (original photos, signatures, thumbnails).
//
// Outbox entry: {seq, client_id, aid, kind, item_id, status, attempts, next_at, message, code,
// payload, server, outcome, created_at, updated_at}. kind: checkin | response | photo | signature |
// submit. status: pending → sending → applied | duplicate | conflict | refused; a conflict becomes
// resolved (keep mine / take the server's); a refused entry is replaced by a new edit or discarded.

import { all, byIndex, done, get, put, tx } from "./idb.js";

export const UNSETTLED = new Set(["pending", "sending", "conflict", "refused"]);
export const LOW_SPACE_BYTES = 64 * 1024 * 1024;
const SPACE_MARGIN_BYTES = 2 * 1024 * 1024;

export class StorageFull extends Error {
  constructor(message) {
    super(message || "手机存储空间不足，本次内容未保存。已保存的记录不受影响；请联网同步或清理手机空间后重试。");
    this.name = "StorageFull";
  }
}

function uuid() {
  return crypto.randomUUID();
}

function entry(fields) {
  const now = Date.now();
  return { client_id: uuid(), status: "pending", attempts: 0, next_at: 0, message: null, code: null, server: null,
    outcome: null, created_at: now, updated_at: now, item_id: null, ...fields };
}

function isQuota(error) {
  return error && (error.name === "QuotaExceededError" || /quota/i.test(String(error.message)));
}

/** Run a write; a full disk becomes StorageFull (the transaction is atomic: nothing half-written). */
async function guarded(write) {
  try {
    return await write();
  } catch (error) {
    if (isQuota(error)) throw new StorageFull();
    throw error;
  }
}

// ------------------------------------------------------------------ storage

export async function estimate() {
  if (!navigator.storage || !navigator.storage.estimate) return null;
  const e = await navigator.storage.estimate();
  return { usage: e.usage || 0, quota: e.quota || 0, free: Math.max(0, (e.quota || 0) - (e.usage || 0)) };
}

export function lowOnSpace(est) {
  return Boolean(est && est.quota && (est.free < LOW_SPACE_BYTES || est.usage / est.quota > 0.9));
}

async function ensureSpace(bytes) {
  const est = await estimate();
  if (est && est.quota && est.free < bytes + SPACE_MARGIN_BYTES) throw new StorageFull();
}

// ------------------------------------------------------------------ assignments and bundles

export async function saveAssignments(items) {
  await guarded(() => tx("assignments", "readwrite", async (s) => {
    await done(s.clear());
    for (const item of items) s.put({ ...item, listed_at: Date.now() });
  }));
}

export const assignments = () => all("assignments");
export const assignment = (aid) => get("assignments", aid);
export const bundle = (aid) => get("bundles", aid);
export const bundles = () => all("bundles");

export async function saveBundle(aid, data, etag, bytes) {
  await guarded(() => put("bundles", { id: aid, data, etag, bytes, fetched_at: Date.now() }));
}

export async function inspection(aid) {
  return (await get("inspections", aid)) || { id: aid };
}

export async function patchInspection(aid, patch) {
  return guarded(() => tx("inspections", "readwrite", async (s) => {
    const current = (await done(s.get(aid))) || { id: aid };
    const next = { ...current, ...patch };
    s.put(next);
    return next;
  }));
}

export const thumbsOf = (aid) => byIndex("thumbs", "aid", aid);
export const thumb = (id) => get("thumbs", id);
export const saveThumb = (aid, id, blob) => guarded(() => put("thumbs", { id, aid, blob, size: blob.size }));

// ------------------------------------------------------------------ answers

export async function answersOf(aid) {
  const rows = await byIndex("answers", "aid", aid);
  return new Map(rows.map((row) => [row.item_id, row]));
}

function responseEntries(outbox, aid, itemId) {
  return outbox.filter((e) => e.aid === aid && e.kind === "response" && e.item_id === itemId);
}

/**
 * Record the inspector's answer on the device and queue it. An entry never sent is updated in
 * place (same client id); once sent it is frozen, and the new edit is queued after it with the
 * revision that entry produces as its base. An item in conflict is not edited until resolved.
 */
export async function setAnswer(aid, itemId, value) {
  return guarded(() => tx(["answers", "outbox"], "readwrite", async ({ answers, outbox }) => {
    const local = (await done(answers.get([aid, itemId]))) || { aid, item_id: itemId, server: null };
    const mine = await done(outbox.index("aid").getAll(aid));
    const entries = responseEntries(mine, aid, itemId);
    if (entries.some((e) => e.status === "conflict")) throw new Error("此项与服务器版本冲突，请先在下方选择保留哪个版本");
    const same = local.result === value.result && (local.note || null) === (value.note || null)
      && JSON.stringify(local.deduction_codes || []) === JSON.stringify(value.deduction_codes || []);
    if (same && !entries.some((e) => e.status === "refused")) return null; // nothing changed: nothing to send
    const now = new Date().toISOString();
    Object.assign(local, { result: value.result, deduction_codes: value.deduction_codes, note: value.note || null,
      updated_at: now });
    answers.put(local);
    const payload = { result: value.result, deduction_codes: value.deduction_codes, note: value.note || null,
      client_updated_at: now };
    const unsent = entries.find((e) => e.status === "pending" && e.attempts === 0);
    if (unsent) {
      unsent.payload = { ...unsent.payload, ...payload };
      unsent.updated_at = Date.now();
      outbox.put(unsent);
      return unsent;
    }
    for (const refused of entries.filter((e) => e.status === "refused")) {
      outbox.put({ ...refused, status: "replaced", updated_at: Date.now() });
    }
    const inFlight = entries.filter((e) => e.status === "pending" || e.status === "sending").pop();
    const base = inFlight ? { base_revision: null, after: inFlight.seq }
      : { base_revision: local.server ? local.server.revision : 0, after: null };
    const created = entry({ aid, kind: "response", item_id: itemId, payload: { ...payload, ...base } });
    created.seq = await done(outbox.add(created));
    return created;
  }));
}

/** Merge the server's responses: items without unsent edits take the server's version. */
export async function mergeServerResponses(aid, responses) {
  await guarded(() => tx(["answers", "outbox"], "readwrite", async ({ answers, outbox }) => {
    const mine = await done(outbox.index("aid").getAll(aid));
    for (const server of responses) {
      const local = (await done(answers.get([aid, server.item_id]))) || { aid, item_id: server.item_id };
      const dirty = responseEntries(mine, aid, server.item_id).some((e) => UNSETTLED.has(e.status));
      if (dirty) {
        answers.put({ ...local, server_seen: server });
      } else if (!local.server || local.server.revision <= server.revision) {
        answers.put({ ...local, result: server.result, deduction_codes: server.deduction_codes || [], note: server.note,
          server, server_seen: server });
      }
    }
  }));
}

// ------------------------------------------------------------------ photos, signatures, check-in, submit

async function sha256(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A small JPEG preview (null when the browser cannot read the file as an image). */
export async function preview(blob, side = 240) {
  try {
    const bitmap = await createImageBitmap(blob);
    const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    return await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.7));
  } catch {
    return null;
  }
}

/**
 * Keep a photo exactly as taken (its SHA-256 is the evidence) and queue its upload. The bytes are
 * copied into the database now: a camera's file may be a temporary one the phone deletes later.
 */
export async function addPhoto(aid, itemId, file) {
  await ensureSpace(file.size * 1.1);
  const bytes = await file.arrayBuffer();
  const original = new Blob([bytes], { type: file.type || "application/octet-stream" });
  const [hash, small] = await Promise.all([sha256(bytes), preview(original)]);
  const name = file.name || "photo.jpg";
  return guarded(() => tx(["files", "outbox"], "readwrite", async ({ files, outbox }) => {
    const created = entry({ aid, kind: "photo", item_id: itemId, payload: { name, type: file.type, size: file.size,
      sha256: hash } });
    files.put({ client_id: created.client_id, aid, item_id: itemId, kind: "photo", blob: original, preview: small,
      name, type: file.type, size: file.size, sha256: hash, created_at: Date.now() });
    created.seq = await done(outbox.add(created));
    return created;
  }));
}

export async function addSignature(aid, role, name, blob) {
  await ensureSpace(blob.size);
  return guarded(() => tx(["files", "outbox"], "readwrite", async ({ files, outbox }) => {
    const created = entry({ aid, kind: "signature", payload: { signer_role: role, signer_name: name, size: blob.size } });
    files.put({ client_id: created.client_id, aid, kind: "signature", blob, preview: blob, name: "signature.png",
      type: "image/png", size: blob.size, created_at: Date.now() });
    created.seq = await done(outbox.add(created));
    return created;
  }));
}

/** Mark this inspection's refused entries of a kind as replaced by the new one (a new scan, a new submission). */
async function replaceRefused(outbox, aid, kind) {
  for (const old of await done(outbox.index("aid").getAll(aid))) {
    if (old.kind === kind && old.status === "refused") outbox.put({ ...old, status: "replaced", updated_at: Date.now() });
  }
}

export async function addCheckin(aid, payload) {
  return guarded(() => tx(["inspections", "outbox"], "readwrite", async ({ inspections, outbox }) => {
    await replaceRefused(outbox, aid, "checkin");
    const created = entry({ aid, kind: "checkin", payload });
    created.seq = await done(outbox.add(created));
    const current = (await done(inspections.get(aid))) || { id: aid };
    inspections.put({ ...current, checkin_local: { ...payload, client_id: created.client_id } });
    return created;
  }));
}

export async function addSubmit(aid) {
  return guarded(() => tx("outbox", "readwrite", async (outbox) => {
    const existing = (await done(outbox.index("aid").getAll(aid)))
      .find((e) => e.kind === "submit" && (e.status === "pending" || e.status === "sending"));
    if (existing) return existing;
    await replaceRefused(outbox, aid, "submit");
    const created = entry({ aid, kind: "submit", payload: {} });
    created.seq = await done(outbox.add(created));
    return created;
  }));
}

export const filesOf = (aid) => byIndex("files", "aid", aid);
export const file = (clientId) => get("files", clientId);

// ------------------------------------------------------------------ outbox

export const outbox = () => all("outbox");
export const outboxOf = (aid) => byIndex("outbox", "aid", aid);
export const outboxEntry = (seq) => get("outbox", seq);

export async function unsentCount() {
  return (await outbox()).filter((e) => UNSETTLED.has(e.status)).length;
}

/** Update one entry (read-modify-write in one transaction). */
export async function updateEntry(seq, patch) {
  return tx("outbox", "readwrite", async (s) => {
    const current = await done(s.get(seq));
    if (!current) return null;
    const next = { ...current, ...(typeof patch === "function" ? patch(current) : patch), updated_at: Date.now() };
    s.put(next);
    return next;
  });
}

/** Mark entries as being sent (frozen: their content and client id no longer change). */
export async function markSending(seqs) {
  return tx("outbox", "readwrite", async (s) => {
    const out = [];
    for (const seq of seqs) {
      const current = await done(s.get(seq));
      if (!current || current.status !== "pending") continue;
      const next = { ...current, status: "sending", attempts: current.attempts + 1, sent_at: Date.now(), updated_at: Date.now() };
      s.put(next);
      out.push(next);
    }
    return out;
  });
}

/** After a reload or a killed tab: anything left "sending" was in the air; send it again (same client id). */
export async function recoverInterrupted() {
  await tx("outbox", "readwrite", async (s) => {
    for (const e of await done(s.getAll())) {
      if (e.status === "sending") s.put({ ...e, status: "pending", next_at: 0, message: "上次发送被中断，将重新发送" });
    }
  });
}

/** A response write the server applied (or had already applied): record its revision. */
export async function settleResponse(seq, outcome) {
  return tx(["outbox", "answers"], "readwrite", async ({ outbox, answers }) => {
    const current = await done(outbox.get(seq));
    if (!current) return;
    outbox.put({ ...current, status: outcome.outcome, outcome: { revision: outcome.revision }, server: outcome.current,
      message: null, code: null, updated_at: Date.now() });
    const local = await done(answers.get([current.aid, current.item_id]));
    if (local && outcome.current) answers.put({ ...local, server: outcome.current, server_seen: outcome.current });
    for (const next of await done(outbox.index("aid").getAll(current.aid))) {
      if (next.kind === "response" && next.payload.after === seq) {
        outbox.put({ ...next, payload: { ...next.payload, base_revision: outcome.revision, after: null } });
      }
    }
  });
}

/** A conflicting write: keep the server's version beside mine; later queued edits of the item join it. */
export async function conflictResponse(seq, outcome) {
  return tx(["outbox", "answers"], "readwrite", async ({ outbox, answers }) => {
    const current = await done(outbox.get(seq));
    if (!current) return;
    const local = await done(answers.get([current.aid, current.item_id]));
    for (const later of await done(outbox.index("aid").getAll(current.aid))) {
      if (later.kind === "response" && later.item_id === current.item_id && later.seq > seq && later.status === "pending") {
        outbox.put({ ...later, status: "replaced", message: "已并入冲突处理", updated_at: Date.now() });
      }
    }
    const mine = local ? { result: local.result, deduction_codes: local.deduction_codes, note: local.note } : current.payload;
    outbox.put({ ...current, status: "conflict", server: outcome.current, outcome: { revision: outcome.revision },
      payload: { ...current.payload, ...mine }, message: "其他检查人员已修改此项", updated_at: Date.now() });
    if (local) answers.put({ ...local, server_seen: outcome.current });
  });
}

/** Resolve a conflict: "mine" sends my version again on top of the server's; "server" takes theirs. */
export async function resolveConflict(seq, choice) {
  return tx(["outbox", "answers"], "readwrite", async ({ outbox, answers }) => {
    const current = await done(outbox.get(seq));
    if (!current || current.status !== "conflict") return null;
    const server = current.server;
    const local = (await done(answers.get([current.aid, current.item_id]))) || { aid: current.aid, item_id: current.item_id };
    outbox.put({ ...current, status: "resolved", outcome: { ...current.outcome, choice }, updated_at: Date.now(),
      message: choice === "mine" ? "保留我的版本，已重新排队" : "采用服务器版本" });
    if (choice === "server") {
      answers.put({ ...local, result: server.result, deduction_codes: server.deduction_codes || [], note: server.note,
        server, server_seen: server });
      return null;
    }
    answers.put({ ...local, server, server_seen: server });
    const created = entry({ aid: current.aid, kind: "response", item_id: current.item_id, payload: {
      result: current.payload.result, deduction_codes: current.payload.deduction_codes, note: current.payload.note,
      client_updated_at: new Date().toISOString(), base_revision: server ? server.revision : 0, after: null } });
    created.seq = await done(outbox.add(created));
    return created;
  });
}

/** A photo the server has: drop the original (the server keeps it), keep the small preview. */
export async function releaseFile(clientId, result) {
  await tx("files", "readwrite", async (s) => {
    const current = await done(s.get(clientId));
    if (current) s.put({ ...current, blob: null, uploaded: result, released_at: Date.now() });
  });
}

/** Give up a refused photo or signature (the inspector decides; nothing else is touched). */
export async function discard(seq) {
  await tx(["outbox", "files"], "readwrite", async ({ outbox, files }) => {
    const current = await done(outbox.get(seq));
    if (!current || current.status !== "refused") return;
    outbox.put({ ...current, status: "discarded", updated_at: Date.now() });
    if (current.kind === "photo" || current.kind === "signature") files.delete(current.client_id);
  });
}

/** Settled entries older than a week are removed (what is on the server needs no local trace). */
export async function pruneSettled(maxAgeMs = 7 * 24 * 3600 * 1000) {
  const cutoff = Date.now() - maxAgeMs;
  await tx("outbox", "readwrite", async (s) => {
    for (const e of await done(s.getAll())) if (!UNSETTLED.has(e.status) && e.updated_at < cutoff) s.delete(e.seq);
  });
}

/** Bytes kept per assignment: its bundle, thumbnails, photos and signatures. */
export async function usageByAssignment() {
  const out = new Map();
  const add = (aid, n) => out.set(aid, (out.get(aid) || 0) + (n || 0));
  for (const b of await bundles()) add(b.id, b.bytes);
  for (const t of await all("thumbs")) add(t.aid, t.size);
  for (const f of await all("files")) add(f.aid, (f.blob ? f.blob.size : 0) + (f.preview && f.preview !== f.blob ? f.preview.size : 0));
  return out;
}
