// HTTP to the API: tokens, refresh, and the API's one error shape.
//
// The session (access + refresh token, the user) lives in IndexedDB so that every tab and a
// reload share it. Refreshing is single-flight across tabs (Web Locks): a refresh token is
// presented once, and the new pair is stored before anyone uses it. When a refresh response is
// lost on the way (network cut after the server rotated), the old refresh token is kept and
// presented again on the next try; a server that allows that within a short grace window answers
// with a fresh pair, one that does not answers 401, and then the inspector signs in again. Either
// way nothing queued is touched: a 401 stops the sync and asks for the password, never more.

import { getMeta, setMeta } from "./idb.js";

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `服务器返回 ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = error.code || `HTTP_${status}`;
    this.details = error.details || {};
  }
}

export class NetworkError extends Error {
  constructor(cause) {
    super("网络不可用，稍后自动重试");
    this.name = "NetworkError";
    this.cause = cause;
  }
}

export class SessionExpired extends Error {
  constructor(message, code) {
    super(message || "登录已过期，请重新登录");
    this.name = "SessionExpired";
    this.code = code || "SESSION_EXPIRED";
  }
}

const listeners = new Set();
export function onSessionChange(fn) {
  listeners.add(fn);
}
function emit(session) {
  for (const fn of listeners) fn(session);
}

export async function loadSession() {
  return getMeta("session");
}

async function saveTokens(pair, previous) {
  const session = {
    access_token: pair.access_token,
    refresh_token: pair.refresh_token,
    access_expires_at: Date.now() + (pair.expires_in || 900) * 1000,
    user: pair.user || (previous && previous.user),
    expired: false,
  };
  await setMeta("session", session);
  emit(session);
  return session;
}

async function markExpired(session, body) {
  const error = (body && body.error) || {};
  const expired = { ...session, access_token: null, expired: true, expired_code: error.code || "TOKEN_INVALID",
    expired_message: error.message || "登录已过期，请重新登录" };
  await setMeta("session", expired);
  emit(expired);
  return new SessionExpired(expired.expired_message, expired.expired_code);
}

const TIMEOUT_MS = 30000;

/** fetch() that turns a failed connection or a timeout into NetworkError. */
export async function rawFetch(url, options = {}) {
  const { timeout = TIMEOUT_MS, ...rest } = options;
  try {
    return await fetch(url, { cache: "no-store", credentials: "omit", signal: AbortSignal.timeout(timeout), ...rest });
  } catch (error) {
    throw new NetworkError(error);
  }
}

export async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch { /* not JSON */ }
  return new ApiError(response.status, body);
}

async function withLock(name, fn) {
  if (navigator.locks && navigator.locks.request) return navigator.locks.request(name, fn);
  return fn();
}

/** Exchange the refresh token (single-flight across tabs); returns the current session. */
async function refresh(stale) {
  return withLock("inspector-auth", async () => {
    const current = await loadSession();
    if (!current || current.expired || !current.refresh_token) {
      throw new SessionExpired(current && current.expired_message, current && current.expired_code);
    }
    if (stale && current.access_token && current.access_token !== stale.access_token) return current; // another tab did it
    const response = await rawFetch("/api/v1/auth/refresh", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: current.refresh_token }),
    });
    if (response.status === 401) throw await markExpired(current, await response.json().catch(() => null));
    if (!response.ok) throw await errorFrom(response);
    return saveTokens(await response.json(), current);
  });
}

function authorised(options, session) {
  return { ...options, headers: { ...(options.headers || {}), Authorization: `Bearer ${session.access_token}` } };
}

/** An authenticated request; refreshes the access token when it is (about to be) expired or refused. */
export async function authFetch(url, options = {}) {
  let session = await loadSession();
  if (!session || session.expired || !session.access_token) {
    throw new SessionExpired(session && session.expired_message, session && session.expired_code);
  }
  if (Date.now() > session.access_expires_at - 20000) session = await refresh(session);
  let response = await rawFetch(url, authorised(options, session));
  if (response.status === 401) {
    session = await refresh(session);
    response = await rawFetch(url, authorised(options, session));
    if (response.status === 401) throw await markExpired(session, await response.json().catch(() => null));
  }
  return response;
}

export async function getJson(url, options = {}) {
  const response = await authFetch(url, options);
  if (!response.ok && response.status !== 304) throw await errorFrom(response);
  return response;
}

/** Log in; the device belongs to this user until logout. */
export async function login(username, password) {
  const response = await rawFetch("/api/v1/auth/login", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username, password }),
  });
  if (!response.ok) throw await errorFrom(response);
  const pair = await response.json();
  if (pair.user.role !== "inspector") throw new ApiError(403, { error: { code: "ROLE_FORBIDDEN", message: "本应用仅供检查人员使用" } });
  const owner = await getMeta("owner");
  if (owner && owner.id !== pair.user.id) {
    throw new ApiError(409, { error: { code: "DEVICE_OWNED", message: `本机保存着 ${owner.name} 的检查记录，请由本人登录，或由本人退出登录后再使用` } });
  }
  await setMeta("owner", { id: pair.user.id, name: pair.user.display_name || pair.user.username, username: pair.user.username });
  return saveTokens(pair, null);
}

/** Revoke the refresh token on the server (best effort: offline, the device is cleared anyway). */
export async function revoke() {
  const session = await loadSession();
  if (!session || !session.refresh_token) return false;
  try {
    const response = await rawFetch("/api/v1/auth/logout", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: session.refresh_token }), timeout: 8000,
    });
    return response.status === 204;
  } catch {
    return false;
  }
}
