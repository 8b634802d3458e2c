// The JSON API client of the portal and the console: bearer token, one refresh on expiry, the error shape.
//
// Tokens live in sessionStorage (per browser tab, gone when it closes: offices and institutions often
// share PCs). Every error the API answers has one shape {error: {code, message, details}}; it is thrown
// as an ApiError whose message is the API's Chinese message, which the pages show as it is.

const API = document.body.dataset.api || "/api/v1";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

const FALLBACK = {
  0: "无法连接服务器，请检查网络后重试",
  401: "登录已失效，请重新登录",
  403: "当前账号无权执行此操作",
  404: "未找到该记录，或它不在您的管辖范围内",
  413: "上传的文件过大",
  429: "请求过于频繁，请稍后再试",
  500: "服务器内部错误，请稍后再试",
};

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch (_ignored) {
    body = null;
  }
  const err = body && body.error;
  if (err && err.message) return new ApiError(response.status, err.code, err.message, err.details);
  return new ApiError(response.status, `HTTP_${response.status}`, FALLBACK[response.status] || `请求失败（${response.status}）`);
}

function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === "") continue;
    q.set(key, String(value));
  }
  const text = q.toString();
  return text ? `?${text}` : "";
}

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class Session {
  constructor(app) {
    this.key = `inspect.${app}.session`;
    this.onExpired = null;
    this._refreshing = null;
    try {
      this.state = JSON.parse(sessionStorage.getItem(this.key) || "null");
    } catch (_ignored) {
      this.state = null;
    }
  }

  get user() {
    return this.state ? this.state.user : null;
  }

  _save(pair) {
    this.state = { access: pair.access_token, refresh: pair.refresh_token, user: pair.user };
    sessionStorage.setItem(this.key, JSON.stringify(this.state));
  }

  clear() {
    this.state = null;
    sessionStorage.removeItem(this.key);
  }

  async login(username, password) {
    const response = await this._fetch("POST", "/auth/login", { json: { username, password } }, false);
    this._save(await response.json());
    return this.user;
  }

  async logout() {
    const refresh = this.state && this.state.refresh;
    this.clear();
    if (refresh) {
      try {
        await fetch(`${API}/auth/logout`, {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh_token: refresh }),
        });
      } catch (_ignored) {
        // Offline: the refresh token expires on its own; this tab has forgotten it already.
      }
    }
  }

  async _refresh() {
    if (!this._refreshing) {
      const refresh = this.state && this.state.refresh;
      this._refreshing = (async () => {
        if (!refresh) return false;
        const response = await fetch(`${API}/auth/refresh`, {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh_token: refresh }),
        });
        if (!response.ok) return false;
        this._save(await response.json());
        return true;
      })().finally(() => { this._refreshing = null; });
    }
    return this._refreshing;
  }

  async _fetch(method, path, options = {}, authenticated = true) {
    const headers = { Accept: "application/json" };
    let body;
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.form !== undefined) {
      body = options.form;
    }
    if (authenticated && this.state) headers.Authorization = `Bearer ${this.state.access}`;
    let response;
    try {
      response = await fetch(`${API}${path}${query(options.query)}`, { method, headers, body, cache: "no-store" });
    } catch (_network) {
      throw new ApiError(0, "NETWORK", FALLBACK[0]);
    }
    if (response.status === 401 && authenticated && !options._retried) {
      const err = await errorOf(response.clone());
      if (err.code === "TOKEN_EXPIRED" && await this._refresh()) {
        return this._fetch(method, path, { ...options, _retried: true }, authenticated);
      }
      this.clear();
      if (this.onExpired) this.onExpired(err.message);
      throw err;
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  async request(method, path, options = {}) {
    const response = await this._fetch(method, path, options);
    if (response.status === 204) return null;
    return response.json();
  }

  get(path, params) { return this.request("GET", path, { query: params }); }
  post(path, json, params) { return this.request("POST", path, { json: json === undefined ? {} : json, query: params }); }
  put(path, json) { return this.request("PUT", path, { json }); }
  patch(path, json) { return this.request("PATCH", path, { json }); }
  del(path) { return this.request("DELETE", path, {}); }
  upload(path, formData, params) { return this.request("POST", path, { form: formData, query: params }); }

  async blob(path, params) {
    const response = await this._fetch("GET", path, { query: params });
    return response.blob();
  }

  // An authenticated image (photo, QR code) as a data: URL: the pages' CSP allows data: images only.
  async dataUrl(path) {
    const blob = await this.blob(path);
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(new ApiError(0, "READ_FAILED", "图片读取失败"));
      reader.readAsDataURL(blob);
    });
  }

  // Save an authenticated download (spreadsheet, draw record, report) under ``filename``.
  async download(path, filename, params) {
    const blob = await this.blob(path, params);
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = filename;
    a.hidden = true;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30000);
    return blob;
  }
}
