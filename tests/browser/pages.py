"""Every kind of page people read on the public site (and the printed report), from the demo data, and the
measurements the browser tests make on them.

A page kind is one template in one state: the list, a detail, a result failed by a veto item, a filter sent
back with an error, the 404 page and so on.  Checks run in the page itself (``execute_script``), so what is
measured is what a reader's Chromium lays out.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from pathlib import Path

WIDTHS = {"phone": 390, "desktop": 1280}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


@dataclass(frozen=True)
class PageKind:
    name: str
    path: str
    expected: tuple[str, ...] = ()
    qr: bool = True  # carries a QR code of its own URL
    status: int = 200
    auth: str | None = None  # bearer token (the printed report is not public)
    one_h1: bool = True
    extra: dict = field(default_factory=dict)


def page_kinds(app) -> list[PageKind]:
    """The page kinds, built from the demo world."""
    from inspect_api.directory.institutions import get_institution
    from inspect_api.directory.qr import poster_key
    from inspect_api.draws import reads
    from inspect_api.inspections.models import Inspection
    from inspect_api.publication import public_reads
    from inspect_api.publication.models import Notice

    client = app.test_client()
    with app.app_context():
        results = list(public_reads.public_results().limit(50))
        failing = next(r for r in results if r.grade == "fail" and not r.snapshot.get("veto_failed"))
        veto = next(r for r in results if r.snapshot.get("veto_failed"))
        published = Notice.objects(status="published").first()
        retracted = Notice.objects(status="retracted").first()
        overdue = next(r for r in results if public_reads.institution_counts(r.institution_id)["overdue_findings"])
        draw = next(d for d in reads.public_draws() if d.seed)
        institution = get_institution(overdue.institution_id)
        poster = f"/p/institutions/{institution.public_id}/poster?k={poster_key(institution)}"
        reported = next(i for i in Inspection.objects(state="submitted") if (i.report or {}).get("institution"))
        report_hash = reported.report_hash
    token = client.post("/api/v1/auth/login", json={"username": "office", "password": "demo12345"}).get_json()
    pages = [
        PageKind("home", "/p/", ("医养结合机构监管信息公开", "最新公开的检查结果", "最新问题通报")),
        PageKind("results", "/p/results", ("检查结果公开", "筛选", "下载 CSV")),
        PageKind("results-filtered", "/p/results?grade=fail", ("不合格", failing.snapshot["institution"]["name"])),
        PageKind("results-bad-filter", "/p/results?period=2026-13&kind=combined",
                 ("筛选条件有误", "检查期间应为年份"), qr=False, status=400),
        PageKind("result", f"/p/results/{failing.id}", ("检查结论", "检查组", "执法证号", "发现的问题", "整改状态")),
        PageKind("result-veto", f"/p/results/{veto.id}", ("一票否决项", "与得分高低无关")),
        PageKind("institution", f"/p/institutions/{overdue.institution_public_id}",
                 ("逾期未整改", "公开联系方式", "近期检查结果", "点名本机构的问题通报")),
        PageKind("notices", "/p/notices", ("问题通报", published.title, "撤回理由")),
        PageKind("notice", f"/p/notices/{published.id}", (published.number, "通报问题清单")),
        PageKind("notice-retracted", f"/p/notices/{retracted.id}", ("本通报已撤回", retracted.retraction_reason)),
        PageKind("draws", "/p/draws", ("双随机抽查记录", "抽中机构数")),
        PageKind("draw", f"/p/draws/{draw.id}", ("抽查计划", "为什么这次抽取无法被操纵", "自己动手验证", "术语表")),
        PageKind("bad-params", "/p/notices?page=0", ("请求参数有误", "页码应为"), qr=False, status=400),
        PageKind("not-found", "/p/results/000000000000000000000000", ("页面不存在",), qr=False, status=404),
        PageKind("poster", poster, ("执法人员现场检查签到", "打印"), qr=False),
        PageKind("report-verify", f"/p/reports/{reported.id}/verify?h={report_hash}", ("核验通过", "北京时间"),
                 qr=False),
        PageKind("report", f"/api/v1/inspections/{reported.id}/report", ("医养结合机构监督检查报告", "北京时间"),
                 qr=False, auth=token["access_token"]),
    ]
    with app.app_context():
        pages += _assessment_pages()
    return pages


def _assessment_pages() -> list[PageKind]:
    """The survey page, the map, and profiles showing ledger checks and published satisfaction results."""
    from inspect_api.directory.models import Institution
    from inspect_api.ledgers.models import LedgerCheck
    from inspect_api.surveys.models import SurveyResult

    published = SurveyResult.objects(count__gte=10).order_by("-quarter").first()
    home = Institution.objects.get(id=published.institution_id)
    concluded = LedgerCheck.objects.get(state="concluded")
    checked = Institution.objects.get(id=concluded.institution_id)
    return [
        PageKind("survey", f"/p/institutions/{home.public_id}/survey", ("满意度测评", "很满意", "提交评价", "不会公开")),
        PageKind("institution-satisfaction", f"/p/institutions/{home.public_id}", ("满意度测评", "有效答卷", "总体均分")),
        PageKind("institution-ledger", f"/p/institutions/{checked.public_id}", ("台账资料抽查", concluded.code)),
        PageKind("map", "/p/map", ("医养结合机构电子地图", "一键电话", "一键导航", "高德地图", "GCJ-02")),
        PageKind("map-district", "/p/map?region=370302", ("淄川区", "一键导航")),
    ]


def open_page(driver, base: str, page: PageKind) -> None:
    """Load a page kind (with its bearer token, sent by the browser itself, when it needs one)."""
    if page.auth:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Bearer {page.auth}"}})
    try:
        driver.get(base + page.path)
    finally:
        if page.auth:
            driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})


def set_width(driver, width: int, height: int = 900) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def set_text_size(driver, percent: int) -> None:
    """The reader's text size: the root font size as a percentage of the browser's default."""
    driver.execute_script("document.documentElement.style.fontSize = arguments[0];"
                          "return document.documentElement.offsetWidth;", f"{percent}%")


def screenshot(driver, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = int(driver.execute_script("return Math.min(document.documentElement.scrollHeight, 8000)"))
    width = int(driver.execute_script("return window.innerWidth"))
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]', '_', name)}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def horizontal_overflow(driver) -> str | None:
    """None when the page does not scroll sideways, else the sizes and the elements sticking out."""
    width, inner = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    if width <= inner:
        return None
    wide = driver.execute_script("""
        const w = window.innerWidth; const out = [];
        for (const el of document.querySelectorAll('body *')) {
          const r = el.getBoundingClientRect();
          if (r.right > w + 1) out.push(el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined
                                        ? '.' + el.className : '') + ' (' + Math.round(r.right) + ')');
          if (out.length > 5) break;
        }
        return out;""")
    return f"scrollWidth {width} > {inner} ({', '.join(wide)})"


def squeezed_values(driver) -> list[str]:
    """Label/value lists whose value got less than half of its list's width (one or two characters a line)."""
    return driver.execute_script("""
        const out = [];
        for (const dd of document.querySelectorAll('dl dd')) {
          const dl = dd.closest('dl');
          const w = dd.getBoundingClientRect().width, full = dl.getBoundingClientRect().width;
          if (dd.offsetParent !== null && w < full / 2) {
            const dt = dd.parentElement.querySelector('dt') || dd.previousElementSibling;
            out.push((dt ? dt.textContent.trim() : '?') + ': ' + Math.round(w) + ' of ' + Math.round(full));
          }
        }
        for (const td of document.querySelectorAll('td')) {
          const table = td.closest('table');
          const style = getComputedStyle(td);
          if (style.display === 'block' && td.getBoundingClientRect().width < table.getBoundingClientRect().width / 2)
            out.push('td: ' + td.textContent.trim().slice(0, 20));
        }
        return out;""")


def small_text(driver, minimum_px: float = 14.0) -> list[str]:
    """Visible elements with their own text set smaller than ``minimum_px``."""
    return driver.execute_script("""
        const min = arguments[0], out = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        const seen = new Set();
        while (walker.nextNode()) {
          const node = walker.currentNode, el = node.parentElement;
          if (!node.textContent.trim() || seen.has(el)) continue;
          seen.add(el);
          const r = el.getBoundingClientRect();
          if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
          if (el.closest('.skip, .visually-hidden')) continue;
          const size = parseFloat(getComputedStyle(el).fontSize);
          if (size < min) out.push(el.tagName.toLowerCase() + ' ' + size + 'px: ' + node.textContent.trim().slice(0, 30));
        }
        return out;""", minimum_px)
