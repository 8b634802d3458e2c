// Reads from the API into the device: the assignment list, each assignment's offline bundle (with
// the thumbnails of the institution's open findings), the inspection's state on the server, the report.

import { authFetch, errorFrom, getJson } from "./api.js";
import * as store from "./store.js";

const PER_PAGE = 100;

/** Every assignment of the signed-in inspector (a few pages at most), kept on the device. */
export async function refreshAssignments() {
  const items = [];
  for (let page = 1; page <= 20; page += 1) {
    const body = await (await getJson(`/api/v1/me/assignments?page=${page}&per_page=${PER_PAGE}`)).json();
    items.push(...body.items);
    if (items.length >= body.total || !body.items.length) break;
  }
  await store.saveAssignments(items);
  return items;
}

/** Fetch (or revalidate with its ETag) one bundle, the inspection's state and the findings' thumbnails. */
export async function download(aid) {
  const kept = await store.bundle(aid);
  const headers = kept && kept.etag ? { "If-None-Match": kept.etag } : {};
  const response = await getJson(`/api/v1/assignments/${aid}/bundle`, { headers });
  let data = kept && kept.data;
  if (response.status !== 304) {
    const text = await response.text();
    data = JSON.parse(text);
    await store.saveBundle(aid, data, response.headers.get("ETag"), new Blob([text]).size);
  }
  for (const finding of data.open_findings || []) {
    for (const photo of finding.photos || []) {
      if (await store.thumb(photo.id)) continue;
      const image = await authFetch(photo.thumb_url);
      if (image.ok) await store.saveThumb(aid, photo.id, await image.blob());
    }
  }
  await refreshInspection(aid);
  return data;
}

/** The inspection as the server has it now: check-in, signatures, result; answers merged. */
export async function refreshInspection(aid) {
  const view = await (await getJson(`/api/v1/inspections/${aid}`)).json();
  const { responses, ...rest } = view;
  await store.mergeServerResponses(aid, responses || []);
  return store.patchInspection(aid, { server: rest, fetched_at: Date.now() });
}

/** The printable report (HTML), kept on the device once fetched. */
export async function report(aid) {
  const response = await authFetch(`/api/v1/inspections/${aid}/report`);
  if (!response.ok) throw await errorFrom(response);
  const html = await response.text();
  await store.patchInspection(aid, { report_html: html, report_hash: response.headers.get("X-Report-Hash") });
  return html;
}
