// The phone's two flows through a client generated from /api/v1/openapi.json (openapi-typescript +
// openapi-fetch), compiled with `tsc --strict`: no casts, every payload typed by the document.
//
// Inspector: login → assignments → bundle (ETag / 304) → check-in → responses → photo → signatures →
// submit → report.  Institution: orders → order → evidence photo → answer.
//
// Inputs come from the environment (API_BASE, INSPECTOR_*, MEMBER_*, INSTITUTION_*, QR_PAYLOADS,
// PHOTO_PATH, SIGNATURE_PATH); the last line printed is a JSON summary the Python test checks.
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "./api.js";

type Schemas = components["schemas"];
type ChecklistItem = Schemas["ChecklistItem"];
type ResponseIn = Schemas["ResponseIn"];
type ApiClient = Client<paths, `${string}/${string}`>;

function env(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`missing environment variable ${name}`);
  }
  return value;
}

function qrPayloads(): Map<string, string> {
  const parsed: unknown = JSON.parse(env("QR_PAYLOADS"));
  const out = new Map<string, string>();
  if (typeof parsed === "object" && parsed !== null) {
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value === "string") {
        out.set(key, value);
      }
    }
  }
  return out;
}

function check(condition: boolean, message: string): void {
  if (!condition) {
    throw new Error(message);
  }
}

/** The data of a successful call, or an error naming the documented error code. */
function expectData<T>(
  result: { data?: T; error?: Schemas["Error"] | string; response: Response },
  what: string,
): T {
  if (result.data === undefined) {
    const detail = typeof result.error === "string" ? result.error : result.error?.error.code;
    throw new Error(`${what}: HTTP ${result.response.status} ${detail ?? ""}`);
  }
  return result.data;
}

const BASE = env("API_BASE");

async function login(username: string, password: string): Promise<{ client: ApiClient; me: Schemas["User"] }> {
  const anonymous = createClient<paths>({ baseUrl: BASE });
  const tokens = expectData(
    await anonymous.POST("/api/v1/auth/login", { body: { username, password } }),
    `login ${username}`,
  );
  check(tokens.token_type === "Bearer" && tokens.expires_in > 0, "a bearer token pair");
  const auth: Middleware = {
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${tokens.access_token}`);
      return request;
    },
  };
  const client = createClient<paths>({ baseUrl: BASE });
  client.use(auth);
  const me = expectData(await client.GET("/api/v1/me"), "me");
  check(me.id === tokens.user.id, "the token is the user's");
  return { client, me };
}

function fileBlob(path: string, type: string): Blob {
  return new Blob([fs.readFileSync(path)], { type });
}

function photoForm(body: Schemas["PhotoForm"]): FormData {
  const form = new FormData();
  form.append("item_id", body.item_id);
  form.append("client_id", body.client_id);
  form.append("file", body.file, "photo.jpg");
  return form;
}

function signatureForm(body: Schemas["SignatureForm"]): FormData {
  const form = new FormData();
  form.append("client_id", body.client_id);
  if (body.signer_name !== undefined) {
    form.append("signer_name", body.signer_name);
  }
  form.append("signer_role", body.signer_role);
  if (body.inspector_id !== undefined) {
    form.append("inspector_id", body.inspector_id);
  }
  form.append("file", body.file, "signature.png");
  return form;
}

function answerPhotoForm(body: Schemas["PhotoUpload"]): FormData {
  const form = new FormData();
  form.append("client_id", body.client_id);
  form.append("file", body.file, "evidence.jpg");
  return form;
}

async function inspectorFlow() {
  const { client: lead, me } = await login(env("INSPECTOR_USER"), env("INSPECTOR_PASSWORD"));
  check(me.role === "inspector" && me.inspector_id !== null, "an inspector account");
  const myInspectorId = me.inspector_id ?? "";
  const { client: memberPhone, me: memberUser } = await login(env("MEMBER_USER"), env("MEMBER_PASSWORD"));
  const payloads = qrPayloads();

  // Assignments: an assigned one this inspector leads with the member on the team, whose poster we "scan".
  const page = expectData(
    await lead.GET("/api/v1/me/assignments", { params: { query: { status: "assigned", per_page: 50 } } }),
    "assignments",
  );
  check(page.total >= page.items.length && page.page === 1, "a page of assignments");
  const memberInspectorId = memberUser.inspector_id ?? "";
  const assignment = page.items.find((a) => a.team[0] === myInspectorId && payloads.has(a.institution_id)
    && a.team.includes(memberInspectorId));
  if (assignment === undefined) {
    throw new Error("no assigned assignment led by this inspector with the member on its team");
  }
  const id = assignment.id;

  // The offline bundle, then a conditional re-fetch.
  const fetched = await lead.GET("/api/v1/assignments/{assignment_id}/bundle", {
    params: { path: { assignment_id: id } },
  });
  const bundle = expectData(fetched, "bundle");
  const etag = fetched.response.headers.get("ETag") ?? "";
  check(etag.length > 0, "the bundle has an ETag");
  const again = await lead.GET("/api/v1/assignments/{assignment_id}/bundle", {
    params: { path: { assignment_id: id }, header: { "If-None-Match": etag } },
  });
  check(again.response.status === 304, `If-None-Match answers 304 (got ${again.response.status})`);
  check(bundle.inspection.id === id && bundle.assignment.status === "assigned", "the bundle's inspection");
  const leadMember = bundle.team.find((m) => m.role === "lead");
  const member = bundle.team.find((m) => m.role === "member");
  check(leadMember?.inspector_id === myInspectorId, "this inspector leads the team");

  const kind = bundle.institution.kind;
  const items: ChecklistItem[] = bundle.checklist.content.sections.flatMap((section) => section.items);
  const applicable = items.filter((item) => item.kinds === undefined || item.kinds.includes(kind));
  const deducted = applicable.find(
    (item) => item.veto !== true && item.deductions.length > 0 && item.evidence.min_photos > 0,
  );
  if (deducted === undefined) {
    throw new Error("no item to deduct");
  }
  const deduction = deducted.deductions[0];
  if (deduction === undefined) {
    throw new Error("no deduction code");
  }

  // Check in on site: the poster's QR payload and a GPS fix next to the institution.
  const rules = bundle.checkin_rules;
  const checkedIn = expectData(
    await lead.POST("/api/v1/inspections/{inspection_id}/check-in", {
      params: { path: { inspection_id: id } },
      body: {
        client_id: randomUUID(), qr_token: payloads.get(bundle.institution.id) ?? "",
        latitude: (rules.latitude ?? 0) + 0.0002, longitude: rules.longitude ?? 0, accuracy_m: 8.5,
        captured_at: new Date().toISOString(),
      },
    }),
    "check-in",
  );
  check(checkedIn.state === "checked_in" && checkedIn.checkin?.flagged === false, "checked in, not flagged");

  // Answers in batches; the first batch is sent twice (a lost response): duplicates, same revisions.
  const now = new Date().toISOString();
  const answers: ResponseIn[] = applicable.map((item) => ({
    client_id: randomUUID(), item_id: item.id, base_revision: 0, client_updated_at: now,
    result: item.id === deducted.id ? "deduct" : "pass",
    deduction_codes: item.id === deducted.id ? [deduction.code] : [],
    note: item.id === deducted.id ? "现场检查发现该问题" : null,
  }));
  let applied = 0;
  for (let start = 0; start < answers.length; start += 40) {
    const batch = answers.slice(start, start + 40);
    const result = expectData(
      await lead.PUT("/api/v1/inspections/{inspection_id}/responses", {
        params: { path: { inspection_id: id } }, body: { items: batch },
      }),
      "responses",
    );
    check(result.outcomes.every((o) => o.outcome === "applied"), "every answer applied");
    applied += result.applied;
  }
  const replay = expectData(
    await lead.PUT("/api/v1/inspections/{inspection_id}/responses", {
      params: { path: { inspection_id: id } }, body: { items: answers.slice(0, 40) },
    }),
    "replayed responses",
  );
  check(replay.duplicate === Math.min(40, answers.length) && replay.applied === 0, "a replay is a duplicate");

  // Photos as the item's evidence rule asks, then one variant back.
  let thumbBytes = 0;
  for (let n = 0; n < deducted.evidence.min_photos; n += 1) {
    const photo = expectData(
      await lead.POST("/api/v1/inspections/{inspection_id}/photos", {
        params: { path: { inspection_id: id } },
        body: { item_id: deducted.id, client_id: randomUUID(), file: fileBlob(env("PHOTO_PATH"), "image/jpeg") },
        bodySerializer: photoForm,
      }),
      "photo",
    );
    check(photo.item_id === deducted.id && photo.sha256.length === 64, "the photo is stored for its item");
    const thumb = await lead.GET("/api/v1/photos/{evidence_id}/{variant}", {
      params: { path: { evidence_id: photo.id, variant: "thumb" } }, parseAs: "blob",
    });
    const blob = expectData(thumb, "thumbnail");
    check(thumb.response.headers.get("Content-Type") === "image/jpeg", "a JPEG thumbnail");
    thumbBytes += blob.size;
  }

  // Signatures: each inspector signs as themselves on their own phone; the institution's representative
  // signs on the lead's phone with their name.
  const signaturePng = () => fileBlob(env("SIGNATURE_PATH"), "image/png");
  check(memberUser.inspector_id === member?.inspector_id, "the member's account");
  const signatures = [
    await lead.POST("/api/v1/inspections/{inspection_id}/signatures", {
      params: { path: { inspection_id: id } }, bodySerializer: signatureForm,
      body: { client_id: randomUUID(), signer_name: leadMember?.name ?? me.username, signer_role: "lead",
        file: signaturePng() },
    }),
    await memberPhone.POST("/api/v1/inspections/{inspection_id}/signatures", {
      params: { path: { inspection_id: id } }, bodySerializer: signatureForm,
      body: { client_id: randomUUID(), signer_name: member?.name ?? memberUser.username, signer_role: "member",
        file: signaturePng() },
    }),
    await lead.POST("/api/v1/inspections/{inspection_id}/signatures", {
      params: { path: { inspection_id: id } }, bodySerializer: signatureForm,
      body: { client_id: randomUUID(), signer_name: bundle.institution.contact_name ?? "机构负责人",
        signer_role: "institution_representative", file: signaturePng() },
    }),
  ].map((result, n) => expectData(result, `signature ${n + 1}`));
  check(signatures.map((s) => s.signer_role).join(",") === "lead,member,institution_representative", "three roles");

  // Submit (the member may not; the error code is typed), then the record and the report.
  const refused = await memberPhone.POST("/api/v1/inspections/{inspection_id}/submit", {
    params: { path: { inspection_id: id } },
  });
  check(refused.response.status === 403 && refused.error?.error.code === "NOT_TEAM_LEAD", "only the lead submits");
  const submitted = expectData(
    await lead.POST("/api/v1/inspections/{inspection_id}/submit", { params: { path: { inspection_id: id } } }),
    "submit",
  );
  check(submitted.state === "submitted" && submitted.result !== null, "submitted and scored");
  const finding = submitted.findings[0];
  check(submitted.findings.length === 1 && finding?.item_id === deducted.id, "one finding, the deducted item");
  check(finding?.severity === deducted.severity && submitted.order_id !== null, "a rectification order");
  const record = expectData(
    await lead.GET("/api/v1/inspections/{inspection_id}", { params: { path: { inspection_id: id } } }),
    "inspection",
  );
  check((record.responses ?? []).length === applicable.length && record.signatures.length === 3, "the record");
  const report = expectData(
    await lead.GET("/api/v1/inspections/{inspection_id}/report", {
      params: { path: { inspection_id: id } }, parseAs: "text",
    }),
    "report",
  );
  check(report.includes(submitted.code) && report.includes(submitted.report_hash ?? "?"), "the printed report");

  return {
    inspection_id: id, institution_id: bundle.institution.id, code: submitted.code,
    score: submitted.result?.score ?? null, grade: submitted.result?.grade ?? null,
    order_id: submitted.order_id, report_hash: submitted.report_hash, answered: applied,
    photos: deducted.evidence.min_photos, thumb_bytes: thumbBytes, finding_item: deducted.id,
  };
}

async function institutionFlow(orderId: string | null) {
  const { client: staff, me } = await login(env("INSTITUTION_USER"), env("INSTITUTION_PASSWORD"));
  check(me.role === "institution", "an institution account");
  const orders = expectData(
    await staff.GET("/api/v1/rectifications", { params: { query: { status: "open", per_page: 100 } } }),
    "orders",
  );
  check(orders.items.every((o) => o.institution_id === me.institution_id && o.status === "open"), "own orders");
  const order = orders.items.find((o) => o.id === orderId) ?? orders.items[0];
  if (order === undefined) {
    throw new Error("the institution has no open order");
  }
  const detail = expectData(
    await staff.GET("/api/v1/rectifications/{order_id}", { params: { path: { order_id: order.id } } }),
    "order",
  );
  const owed = detail.findings.find((f) => f.status === "open" || f.status === "reopened");
  if (owed === undefined) {
    throw new Error("no finding to answer");
  }
  const acknowledged = expectData(
    await staff.POST("/api/v1/rectifications/{order_id}/acknowledge", { params: { path: { order_id: order.id } } }),
    "acknowledge",
  );
  check(acknowledged.acknowledged_at !== null, "acknowledged");
  const path = { order_id: order.id, finding_id: owed.id };
  const photo = expectData(
    await staff.POST("/api/v1/rectifications/{order_id}/findings/{finding_id}/photos", {
      params: { path }, bodySerializer: answerPhotoForm,
      body: { client_id: randomUUID(), file: fileBlob(env("PHOTO_PATH"), "image/jpeg") },
    }),
    "answer photo",
  );
  const answered = expectData(
    await staff.POST("/api/v1/rectifications/{order_id}/findings/{finding_id}/answer", {
      params: { path },
      body: { description: "已按要求完成整改，附整改后照片", photo_ids: [photo.id], client_id: randomUUID() },
    }),
    "answer",
  );
  const last = answered.answers?.[answered.answers.length - 1];
  check(answered.status === "answered" && last?.photo_ids?.includes(photo.id) === true, "the answer is recorded");
  return { order_id: order.id, order_number: detail.number, finding_id: owed.id, status: answered.status };
}

const inspector = await inspectorFlow();
const institution = await institutionFlow(inspector.order_id);
console.log(JSON.stringify({ inspector, institution }));
