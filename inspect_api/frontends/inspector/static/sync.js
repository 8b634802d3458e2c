// The outbox sender: one queue for every write, sent in order per inspection (check-in, answers,
// photos, signatures, submission), retried with exponential backoff while the network is away.
// Every entry keeps its client id across retries, so a lost response never makes a duplicate;
// each outcome is recorded on the entry (applied, duplicate, conflict, refused with the server's
// message). A refused entry does not stop the others. A 401 stops the round and keeps everything.

import { ApiError, NetworkError, SessionExpired, authFetch, errorFrom } from "./api.js";
import * as store from "./store.js";

const BATCH = 200;
const ORDER = ["checkin", "response", "photo", "signature", "submit"];
const listeners = new Set();
let running = null;
let rerun = false;

export const status = { running: false, lastRun: null, lastError: null, authExpired: false, offline: false };

export function onChange(fn) {
  listeners.add(fn);
}

function emit(detail) {
  for (const fn of listeners) fn(detail);
}

/** Delay before the n-th retry: 2 s, 4 s, 8 s … capped at 5 min, with ±25 % jitter. */
export function backoff(attempts) {
  const base = Math.min(300000, 2000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

async function retryLater(entries, message, code = null) {
  for (const e of entries) {
    await store.updateEntry(e.seq, { status: "pending", next_at: Date.now() + backoff(e.attempts), message, code });
  }
}

async function refuse(entry, error) {
  await store.updateEntry(entry.seq, { status: "refused", message: error.message, code: error.code,
    details: error.details || null, next_at: 0 });
}

const WAIT_CODES = new Set(["NOT_CHECKED_IN"]);

/** Decide what a failed request means for its entries: retry later, or refused for good. */
async function failed(entries, error) {
  if (error instanceof NetworkError) {
    await retryLater(entries, error.message);
    throw error; // the network is gone: stop this round
  }
  if (error instanceof SessionExpired) {
    await store.recoverInterrupted();
    throw error;
  }
  if (error instanceof ApiError && (error.status >= 500 || error.status === 429 || WAIT_CODES.has(error.code))) {
    const message = error.code === "NOT_CHECKED_IN" ? "等待签到上传后再发送" : `${error.message}（稍后重试）`;
    await retryLater(entries, message, error.code);
    return;
  }
  for (const e of entries) await refuse(e, error);
}

function ready(entry, now) {
  return entry.status === "pending" && (entry.next_at || 0) <= now;
}

// ------------------------------------------------------------------ per kind

async function sendCheckin(entry) {
  const [e] = await store.markSending([entry.seq]);
  if (!e) return;
  try {
    const response = await authFetch(`/api/v1/inspections/${e.aid}/check-in`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ client_id: e.client_id, qr_token: e.payload.qr_token, latitude: e.payload.latitude,
        longitude: e.payload.longitude, accuracy_m: e.payload.accuracy_m, captured_at: e.payload.captured_at }),
    });
    if (!response.ok) throw await errorFrom(response);
    const view = await response.json();
    await store.patchInspection(e.aid, { server: view, fetched_at: Date.now() });
    await store.updateEntry(e.seq, { status: "applied", outcome: { checkin: view.checkin }, message: null, code: null });
    for (const waiting of await store.outboxOf(e.aid)) { // what waited for the check-in goes now
      if (waiting.status === "pending" && waiting.code === "NOT_CHECKED_IN") await store.updateEntry(waiting.seq, { next_at: 0 });
    }
  } catch (error) {
    await failed([e], error);
  }
}

async function baseOf(entry, all, answers) {
  if (entry.payload.after === null || entry.payload.after === undefined) return entry.payload.base_revision;
  const before = all.find((x) => x.seq === entry.payload.after);
  if (before && (before.status === "pending" || before.status === "sending")) return null; // wait for it
  if (before && (before.status === "applied" || before.status === "duplicate")) return before.outcome.revision;
  const local = answers.get(entry.item_id);
  return local && local.server ? local.server.revision : 0;
}

async function sendResponses(aid, all, now) {
  const answers = await store.answersOf(aid);
  const chosen = [];
  const items = new Set();
  for (const e of all) {
    if (e.kind !== "response" || items.has(e.item_id)) continue;
    if (e.status === "pending" || e.status === "sending") items.add(e.item_id); // one write per item per batch
    if (!ready(e, now) || chosen.length >= BATCH) continue;
    const base = await baseOf(e, all, answers);
    if (base === null) continue;
    if (base !== e.payload.base_revision || e.payload.after !== null) {
      await store.updateEntry(e.seq, (c) => ({ payload: { ...c.payload, base_revision: base, after: null } }));
    }
    chosen.push(e.seq);
  }
  if (!chosen.length) return;
  const sending = await store.markSending(chosen);
  const body = { items: sending.map((e) => ({ client_id: e.client_id, item_id: e.item_id, base_revision: e.payload.base_revision,
    client_updated_at: e.payload.client_updated_at, result: e.payload.result, deduction_codes: e.payload.deduction_codes || [],
    note: e.payload.note })) };
  let result;
  try {
    const response = await authFetch(`/api/v1/inspections/${aid}/responses`, {
      method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    if (!response.ok) throw await errorFrom(response);
    result = await response.json();
  } catch (error) {
    if (error instanceof ApiError && error.code === "RESPONSES_INVALID") {
      // the batch was not saved: refuse the items the server names, send the others again
      const problems = new Map((error.details.problems || []).map((p) => [p.item_id, p]));
      for (const e of sending) {
        const problem = problems.get(e.item_id);
        if (problem) await refuse(e, new ApiError(422, { error: { code: problem.code, message: problem.message, details: problem } }));
        else await store.updateEntry(e.seq, { status: "pending", next_at: 0 });
      }
      return;
    }
    await failed(sending, error);
    return;
  }
  const byClient = new Map(sending.map((e) => [e.client_id, e]));
  for (const outcome of result.outcomes) {
    const e = byClient.get(outcome.client_id);
    if (!e) continue;
    if (outcome.outcome === "conflict") await store.conflictResponse(e.seq, outcome);
    else await store.settleResponse(e.seq, outcome);
  }
}

async function sendFile(entry) {
  const [e] = await store.markSending([entry.seq]);
  if (!e) return;
  const kept = await store.file(e.client_id);
  if (!kept || !kept.blob) {
    await refuse(e, new ApiError(0, { error: { code: "FILE_MISSING", message: "本机找不到该文件，无法上传" } }));
    return;
  }
  const form = new FormData();
  form.append("client_id", e.client_id);
  if (e.kind === "photo") {
    form.append("item_id", e.item_id);
  } else {
    form.append("signer_role", e.payload.signer_role);
    form.append("signer_name", e.payload.signer_name);
  }
  form.append("file", kept.blob, kept.name);
  const url = `/api/v1/inspections/${e.aid}/${e.kind === "photo" ? "photos" : "signatures"}`;
  try {
    const response = await authFetch(url, { method: "POST", body: form, timeout: 180000 });
    if (!response.ok) throw await errorFrom(response);
    const body = await response.json();
    const outcome = e.kind === "photo" ? { id: body.id, sha256: body.sha256, sha_matches: body.sha256 === kept.sha256,
      reused: body.reused } : { evidence_id: body.evidence_id, signer_role: body.signer_role };
    await store.updateEntry(e.seq, { status: "applied", outcome, message: null, code: null });
    if (e.kind === "photo") await store.releaseFile(e.client_id, outcome);
  } catch (error) {
    await failed([e], error);
  }
}

async function sendSubmit(entry, all) {
  const blocking = all.filter((x) => x.kind !== "submit" && store.UNSETTLED.has(x.status));
  if (blocking.length) {
    const unsettled = blocking.filter((x) => x.status === "conflict" || x.status === "refused").length;
    await store.updateEntry(entry.seq, { message: unsettled ? "请先处理冲突或被拒绝的记录" : "等待其他记录上传完成" });
    return;
  }
  const [e] = await store.markSending([entry.seq]);
  if (!e) return;
  try {
    const response = await authFetch(`/api/v1/inspections/${e.aid}/submit`, { method: "POST", timeout: 120000 });
    if (!response.ok) throw await errorFrom(response);
    const view = await response.json();
    const { responses, ...rest } = view;
    await store.patchInspection(e.aid, { server: rest, fetched_at: Date.now() });
    await store.updateEntry(e.seq, { status: "applied", outcome: { result: view.result, order_number: view.order_number },
      message: null, code: null });
  } catch (error) {
    await failed([e], error);
  }
}

async function syncInspection(aid, now) {
  for (const kind of ORDER) {
    const all = (await store.outboxOf(aid)).sort((a, b) => a.seq - b.seq);
    const due = all.filter((e) => e.kind === kind && ready(e, now));
    if (!due.length) continue;
    if (kind === "response") await sendResponses(aid, all, now);
    else if (kind === "checkin") for (const e of due) await sendCheckin(e);
    else if (kind === "submit") await sendSubmit(due[0], all);
    else for (const e of due) await sendFile(e);
  }
}

async function round() {
  const now = Date.now();
  const entries = await store.outbox();
  const aids = [...new Set(entries.filter((e) => ready(e, now)).sort((a, b) => a.seq - b.seq).map((e) => e.aid))];
  const touched = [];
  for (const aid of aids) {
    await syncInspection(aid, now);
    touched.push(aid);
  }
  return touched;
}

async function run() {
  status.running = true;
  emit({ phase: "start" });
  let touched = [];
  try {
    do {
      rerun = false;
      if (navigator.onLine === false) {
        status.offline = true;
        break;
      }
      status.offline = false;
      const result = navigator.locks
        ? await navigator.locks.request("inspector-outbox", { ifAvailable: true }, (lock) => (lock ? round() : []))
        : await round();
      touched = touched.concat(result || []);
    } while (rerun);
    status.lastError = null;
    status.authExpired = false;
  } catch (error) {
    status.lastError = error;
    if (error instanceof SessionExpired) status.authExpired = true;
    if (error instanceof NetworkError) status.offline = true;
  } finally {
    status.running = false;
    status.lastRun = Date.now();
    emit({ phase: "end", touched: [...new Set(touched)] });
  }
}

/** Send what is due. Only one tab sends at a time (Web Locks); calls while running run once more after. */
export function syncNow() {
  if (running) {
    rerun = true;
    return running;
  }
  // cleared once settled (run() may finish without awaiting anything, e.g. offline)
  running = run().finally(() => { running = null; });
  return running;
}

/** Make every waiting entry due now (the "sync now" button, the network coming back). */
export async function retryAllNow() {
  for (const e of await store.outbox()) {
    if (e.status === "pending" && e.next_at > Date.now()) await store.updateEntry(e.seq, { next_at: 0 });
  }
  return syncNow();
}

/** When the next retry is due (ms), or null when nothing waits. */
export async function nextDue() {
  const waiting = (await store.outbox()).filter((e) => e.status === "pending").map((e) => e.next_at || 0);
  return waiting.length ? Math.min(...waiting) : null;
}
