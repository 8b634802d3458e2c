// The server's scoring engine (checklists/scoring.py) for the browser: same rules, same results,
// same problem codes and messages, so the phone can show a provisional score (暂估) offline.
// The server's result is the one that counts. tests/browser/test_app_scoring.py compares this
// module with the Python engine on generated checklists and response sets.
//
// Points have at most two decimal places (the validator's rule), so all arithmetic is done in
// integer hundredths ("cents"), exactly like Python's Decimal: no float rounding anywhere.

const RESULTS = ["pass", "deduct", "fail", "na"];
const KINDS = {
  combined: "医养结合机构（两证齐全）",
  care_home_clinic: "养老机构内设医疗机构",
  hospital_care_unit: "医疗机构内设养老机构",
  community_station: "社区医养结合服务站点",
  township_two_in_one: "两院一体",
};

export class ScoringError extends Error {
  constructor(problems) {
    super(problems.map((p) => p.message_zh).join("；"));
    this.name = "ScoringError";
    this.problems = problems;
  }
}

/** A points value (number or decimal string, ≤ 2 places) as integer hundredths. */
export function cents(value) {
  const text = String(value);
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(text);
  if (!m) return Math.round(Number(value) * 100);
  const magnitude = Number(m[2]) * 100 + Number((m[3] || "").padEnd(2, "0"));
  return m[1] ? -magnitude : magnitude;
}

/** Integer hundredths as the Decimal string Python prints ("87.50", "100.00"). */
export function centsText(value) {
  const sign = value < 0 ? "-" : "";
  const v = Math.abs(value);
  return `${sign}${Math.floor(v / 100)}.${String(v % 100).padStart(2, "0")}`;
}

/** Python's repr() of the values a response can carry (for the INVALID_RESULT message). */
function pyRepr(value) {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string") {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const body = value.replace(/\\/g, "\\\\").replace(quote === "'" ? /'/g : /"/g, `\\${quote}`);
    return quote + body + quote;
  }
  return String(value);
}

export function* iterItems(checklist) {
  for (const section of checklist.sections) for (const item of section.items) yield [section, item];
}

/** Whether an item applies to an institution kind (null: no kind filter). */
export function appliesTo(item, kind) {
  const kinds = item.kinds;
  return kind === null || kind === undefined || !kinds || kinds.length === 0 || kinds.includes(kind);
}

export function gradeFor(checklist, scoreCents) {
  const bands = [...checklist.bands].sort((a, b) => cents(a.min) - cents(b.min));
  const top = bands[bands.length - 1];
  for (const band of bands) {
    const lo = cents(band.min);
    const hi = cents(band.max);
    if ((lo <= scoreCents && scoreCents < hi) || (band === top && scoreCents === hi)) return [band.code, band.name];
  }
  throw new Error(`score ${centsText(scoreCents)} is outside the checklist's bands`);
}

export function lowestBand(checklist) {
  let lowest = null;
  for (const band of checklist.bands) if (lowest === null || cents(band.min) < cents(lowest.min)) lowest = band;
  return [lowest.code, lowest.name];
}

function problem(code, item, message) {
  return { code, item, message_zh: message };
}

function isMapping(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function falsy(value) {
  // Python truthiness of the values JSON can carry
  if (value === null || value === undefined || value === false || value === 0 || value === "") return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isMapping(value)) return Object.keys(value).length === 0;
  return false;
}

function normaliseResponses(responses, problems) {
  if (isMapping(responses)) return new Map(Object.entries(responses));
  if (Array.isArray(responses)) {
    const out = new Map();
    responses.forEach((entry, i) => {
      if (!isMapping(entry) || typeof entry.item !== "string") {
        problems.push(problem("INVALID_RESPONSE", null, `第 ${i + 1} 条答复缺少项目编号 item`));
        return;
      }
      if (out.has(entry.item)) {
        problems.push(problem("DUPLICATE_RESPONSE", entry.item, "同一项目有多条答复"));
        return;
      }
      out.set(entry.item, entry);
    });
    return out;
  }
  problems.push(problem("INVALID_RESPONSES", null, "答复应为以项目编号为键的映射或答复列表"));
  return new Map();
}

/**
 * Score responses against a valid checklist, as checklists.scoring.score does.
 * Returns {earned, applicable_max, score (cents), score_text, grade, grade_name, veto_failed,
 * findings, not_applicable}; throws ScoringError listing every problem.
 */
export function score(checklist, responses, kind = null) {
  const problems = [];
  if (kind !== null && kind !== undefined && !(checklist.kinds || []).includes(kind)) {
    const message = kind in KINDS ? `本清单不适用于机构类型 “${KINDS[kind]}”` : `未知的机构类型 “${kind}”`;
    throw new ScoringError([problem("UNKNOWN_KIND", null, message)]);
  }
  const answers = normaliseResponses(responses, problems);
  const known = new Set();
  for (const [, item] of iterItems(checklist)) known.add(item.id);
  for (const itemId of answers.keys()) {
    if (!known.has(itemId)) problems.push(problem("UNKNOWN_ITEM", String(itemId), `清单中没有编号为 “${itemId}” 的项目`));
  }

  let applicableMax = 0;
  let lostTotal = 0;
  const findings = [];
  const vetoFailed = [];
  const notApplicable = [];

  for (const [section, item] of iterItems(checklist)) {
    const itemId = item.id;
    const points = cents(item.points);
    const raw = answers.has(itemId) ? answers.get(itemId) : null;
    const applicable = appliesTo(item, kind);

    if (raw === null || raw === undefined) {
      if (applicable) problems.push(problem("MISSING_RESPONSE", itemId, `项目 ${itemId} 缺少检查结果`));
      else notApplicable.push(itemId);
      continue;
    }
    let result;
    let codes;
    if (typeof raw === "string") {
      result = raw;
      codes = [];
    } else if (isMapping(raw)) {
      result = raw.result;
      codes = falsy(raw.deductions) ? [] : raw.deductions;
    } else {
      problems.push(problem("INVALID_RESPONSE", itemId, `项目 ${itemId} 的答复格式不正确`));
      continue;
    }
    if (!Array.isArray(codes) || !codes.every((c) => typeof c === "string")) {
      problems.push(problem("INVALID_RESPONSE", itemId, `项目 ${itemId} 的扣分代码应为字符串列表`));
      continue;
    }
    if (!RESULTS.includes(result)) {
      problems.push(problem("INVALID_RESULT", itemId,
        `项目 ${itemId} 的检查结果 ${pyRepr(result)} 无效（可选：pass 符合、deduct 扣分、fail 不符合、na 不适用）`));
      continue;
    }
    if (!applicable) {
      if (result !== "na") {
        problems.push(problem("NOT_APPLICABLE_TO_KIND", itemId,
          `项目 ${itemId} 不适用于机构类型 “${KINDS[kind] ?? kind}”，只能标记为不适用或不填`));
      } else {
        notApplicable.push(itemId);
      }
      continue;
    }
    if (result === "na") {
      if (!item.na_allowed) problems.push(problem("NA_NOT_ALLOWED", itemId, `项目 ${itemId} 不允许标记为不适用`));
      else notApplicable.push(itemId);
      continue;
    }
    if (result === "pass" && codes.length) {
      problems.push(problem("DEDUCTIONS_NOT_ALLOWED", itemId, `项目 ${itemId} 判定为符合，不能选择扣分项`));
      continue;
    }
    if (result === "deduct" && !codes.length) {
      problems.push(problem("DEDUCTION_REQUIRED", itemId, `项目 ${itemId} 判定为扣分，但未选择扣分项`));
      continue;
    }
    const rules = new Map();
    for (const d of item.deductions || []) rules.set(d.code, d);
    const counts = new Map();
    for (const code of codes) counts.set(code, (counts.get(code) || 0) + 1);
    let bad = false;
    for (const [code, count] of counts) {
      if (!rules.has(code)) {
        problems.push(problem("UNKNOWN_DEDUCTION", itemId, `项目 ${itemId} 没有扣分代码 “${code}”`));
        bad = true;
      } else if (count > 1 && !rules.get(code).repeatable) {
        problems.push(problem("DUPLICATE_DEDUCTION", itemId, `项目 ${itemId} 的扣分代码 “${code}” 不可重复选择`));
        bad = true;
      }
    }
    if (bad) continue;

    const applied = [...counts].map(([code, count]) => ({
      code, text: rules.get(code).text, points: cents(rules.get(code).points), count,
    }));
    applicableMax += points;
    if (result === "pass") continue;
    const lost = result === "fail" ? points : Math.min(points, applied.reduce((sum, d) => sum + d.points * d.count, 0));
    lostTotal += lost;
    const rule = checklist.deadlines[item.severity];
    const veto = Boolean(item.veto);
    if (veto) vetoFailed.push(itemId);
    findings.push({
      item_id: itemId, item_text: item.text, section_id: section.id, result, deductions: applied,
      points_lost: lost, item_points: points, severity: item.severity,
      deadline_working_days: Number(rule.working_days), reinspection: Boolean(rule.reinspection), veto,
    });
  }

  if (problems.length) throw new ScoringError(problems);
  if (applicableMax === 0) throw new ScoringError([problem("NO_APPLICABLE_ITEMS", null, "没有适用的检查项目，无法评分")]);

  const earned = applicableMax - lostTotal;
  // earned / max × 100 in hundredths, ROUND_HALF_UP (earned ≥ 0)
  const numerator = earned * 10000;
  let value = Math.floor(numerator / applicableMax);
  if (2 * (numerator - value * applicableMax) >= applicableMax) value += 1;
  const [grade, gradeName] = vetoFailed.length ? lowestBand(checklist) : gradeFor(checklist, value);
  return {
    checklist_code: checklist.code, checklist_version: Number(checklist.version), kind,
    earned, applicable_max: applicableMax, score: value, score_text: centsText(value),
    grade, grade_name: gradeName, veto_failed: vetoFailed, findings, not_applicable: notApplicable,
  };
}
