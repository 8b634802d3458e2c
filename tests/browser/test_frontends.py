"""The portal and the console driven in headless Chromium against a real loopback server with the demo data.

Three long journeys (one browser, logging in and out between people):

* an office (city, 370300) from a spreadsheet import (one bad row shown in
  the dry-run preview, then fixed and imported) through a plan, its
  commitment, the draw, the verifier's verdict and an amendment, a failed
  draw and a cancellation, work in progress, a review, a publication and a
  published notice, and its administration pages;
* an institution from the order to an accepted answer: it acknowledges,
  answers with a photo and asks for an extension; its county office, which
  cannot open another county's pages, accepts the answer and grants the
  extension; the institution sees both;
* a second institution that never sees the first one's data.

Every page is photographed at 1280 px and 390 px (test-output/screenshots/)
and must not scroll sideways at 390 px.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from openpyxl import Workbook
from selenium.webdriver.common.by import By

from tests.browser.frontends import Browser, jpeg_file

ENTROPY = "2026-12-01 福利彩票3D 开奖号 815 + 见证人 王芳/赵强"


@pytest.fixture(scope="module")
def app(live_server):
    return live_server["app"]


def _institutions_xlsx(path, rows):
    from inspect_api.directory.imports import INSTITUTION_COLUMNS

    book = Workbook()
    sheet = book.active
    headers = ["机构名称", "统一社会信用代码", "机构类型", "行政区划代码", "地址", "养老床位", "联系人", "联系电话"]
    assert set(headers) <= {c.header for c in INSTITUTION_COLUMNS}
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return str(path)


def _import_rows():
    from inspect_api.directory.creditcode import generate
    from inspect_api.directory.models import INSTITUTION_KINDS

    rng = random.Random("console-journey")
    codes = [generate(rng, "370302", org_type="52") for _ in range(3)]
    names = ["淄川区浏览器测试康养中心", "淄川区浏览器测试护理院", "淄川区浏览器测试日间照料站"]
    kinds = [INSTITUTION_KINDS[k] for k in ("combined", "care_home_clinic", "community_station")]
    rows = [[names[i], codes[i], kinds[i], "370302", f"淄博市淄川区般阳路{10 + i}号", 60, "王主任", "0533-5180001"]
            for i in range(3)]
    bad = [list(r) for r in rows]
    bad[1][1] = codes[1][:-1] + ("0" if codes[1][-1] != "0" else "1")  # wrong check character on row 3
    return names, codes, rows, bad


def _api(app, username):
    client = app.test_client()
    token = client.post("/api/v1/auth/login", json={"username": username, "password": "demo12345"}).get_json()
    return client, {"Authorization": "Bearer " + token["access_token"]}


def test_office_from_import_to_published_notice(live_server, driver, app, tmp_path):
    from inspect_api.directory.models import Institution
    from inspect_api.draws.models import Draw
    from inspect_api.publication.models import Notice, PublishedResult

    b = Browser(driver, live_server["base"], "console")
    driver.get(f"{b.base}/console/")
    driver.execute_script("sessionStorage.clear()")
    b.open("/", "用户名")
    b.shoot("login")
    b.login("office")
    b.see("待审核的整改答复")
    b.shoot("dashboard")

    # ---- import: the dry run lists the bad row and column; nothing is written; then the fixed file imports
    names, codes, rows, bad = _import_rows()
    b.open("/import?what=institutions", "第一步：检查文件")
    b.el("input[name=file]").send_keys(_institutions_xlsx(tmp_path / "bad.xlsx", bad))
    b.submit("form.import-form")
    b.see("检查发现 1 处错误")
    cells = [(row.find_element(By.CSS_SELECTOR, "td[data-label=行]").text,
              row.find_element(By.CSS_SELECTOR, "td[data-label=列]").text)
             for row in driver.find_elements(By.CSS_SELECTOR, ".import-result table.data tbody tr")]
    assert cells == [("3", "统一社会信用代码")]
    with app.app_context():
        assert Institution.objects(credit_code__in=codes).count() == 0
    b.shoot("import-errors")
    b.el("input[name=file]").send_keys(_institutions_xlsx(tmp_path / "fixed.xlsx", rows))
    b.submit("form.import-form")
    b.see("检查通过")
    b.press("确认导入")
    b.see("导入完成：新增 3 条")
    b.shoot("import-done")
    with app.app_context():
        imported = {i.name: str(i.id) for i in Institution.objects(credit_code__in=codes)}
    assert sorted(imported) == sorted(names)

    b.open(f"/institutions?q={names[0]}", names[0])
    b.press("导出 Excel")
    b.until(lambda d: d.find_element(By.XPATH, "//button[text()='导出 Excel']").is_enabled(), "the export")
    assert not driver.find_elements(By.CSS_SELECTOR, ".alert.error")
    b.shoot("institutions")
    b.click(f"a[href$='/institutions/{imported[names[0]]}']")
    b.ready(names[0])
    assert b.h1() == names[0]
    b.shoot("institution")
    b.open("/inspectors", "执法证号")
    b.shoot("inspectors")
    b.click("table.data tbody tr:first-child a")
    b.ready("回避关系")
    b.shoot("inspector")
    b.open("/conflicts", "本辖区的回避关系")
    with app.app_context():
        from inspect_api.directory.models import Inspector
        inspector = Inspector.objects(region="370302", active=True).first()
    b.search("[name=inspector_q]", inspector.name)
    b.option_appears("[name=inspector_id]", inspector.name)
    b.choose("[name=inspector_id]", value=str(inspector.id))
    b.search("[name=institution_q]", names[1])
    b.option_appears("[name=institution_id]", names[1])
    b.choose("[name=institution_id]", value=imported[names[1]])
    b.choose("[name=reason]", value="relative")
    b.fill("textarea[name=note]", "配偶在该机构任护士")
    b.press("登记回避关系")
    b.see("配偶在该机构任护士")
    b.shoot("conflicts")
    b.open("/regions", "淄川区")
    b.shoot("regions")

    # ---- a plan with the imported institution as a mandatory target: commit, draw, verify, amend
    b.open("/plans/new", "抽查事项")
    b.shoot("plan-new")
    form = "form.plan-form"
    b.fill(f"{form} [name=name]", "浏览器测试：淄川区专项双随机抽查")
    b.fill(f"{form} [name=period_start]", "2026-12-01")
    b.fill(f"{form} [name=period_end]", "2026-12-31")
    b.click(f"{form} input[name=matters][value='YY-01']")
    b.choose(f"{form} [name=region_prefix]", value="370302")
    b.fill(f"{form} [name=ratio]", "0.2")
    b.search(f"{form} [name=mandatory_q]", names[0])
    b.option_appears(f"{form} [name=mandatory_pick]", names[0])
    b.choose(f"{form} [name=mandatory_pick]", value=imported[names[0]])
    b.fill(f"{form} [name=mandatory_reason]", "新纳入名录，首次检查")
    b.press("加入必查名单")
    b.see("新纳入名录，首次检查")
    b.submit(form)
    b.see("提交承诺（冻结候选名单并公开承诺值）")
    assert b.h1() == "浏览器测试：淄川区专项双随机抽查"
    plan_url = driver.current_url
    b.press("提交承诺（冻结候选名单并公开承诺值）")
    b.see("承诺值（commitment）")
    with app.app_context():
        draw = Draw.objects(plan_id=plan_url.rsplit("/", 1)[1]).first()
        commitment = draw.commitment
    b.see(commitment)
    b.fill("form.draw-form [name=public_entropy]", ENTROPY)
    b.submit("form.draw-form")
    b.see("抽中的机构")
    assert names[0] in b.text() and "必查" in b.text() and ENTROPY in b.text()
    b.press("用验证程序复算")
    b.see("验证通过")
    b.choose("form.amend-form [name=institution_id]", value=imported[names[0]])
    b.fill("form.amend-form [name=reason]", "组员病假")
    b.submit("form.amend-form")
    b.see("检查组调整（公开）")
    b.see("组员病假")
    b.shoot("plan-drawn")

    # ---- a draw that cannot fill a team is recorded with its reason, then the commitment is cancelled
    client, headers = _api(app, "office")
    failing = client.post("/api/v1/plans", headers=headers, json={
        "name": "浏览器测试：无法组队的计划", "period_start": "2026-12-01", "period_end": "2026-12-31", "ratio": "0.1",
        "required_departments": ["fire", "fire"]}).get_json()
    assert client.post(f"/api/v1/plans/{failing['id']}/commit", headers=headers).status_code == 201
    b.open(f"/plans/{failing['id']}", "抽取")
    b.fill("form.draw-form [name=public_entropy]", "浏览器测试随机源")
    b.submit("form.draw-form")
    b.see("无法组队")
    b.open(f"/plans/{failing['id']}", "失败的抽取尝试（公开）")
    assert "无法组队" in b.text()
    b.fill("form.cancel-form [name=reason]", "检查人员不足，调整方案后重新抽取")
    b.submit("form.cancel-form")
    b.see("检查人员不足，调整方案后重新抽取")
    b.shoot("plan-failed-cancelled")
    b.open("/plans", "浏览器测试：淄川区专项双随机抽查")
    b.shoot("plans")
    b.open("/draws", "抽取记录")
    b.shoot("draws")
    b.click("table.data tbody tr:first-child a")
    b.ready("承诺值（commitment）")
    b.shoot("draw")

    # ---- work in progress and a submitted inspection
    b.open("/assignments?status=submitted", "签到")
    b.shoot("assignments")
    b.click("table.data tbody tr:first-child td[data-label=检查记录] a")
    b.ready("检查结果")
    b.see("签到")
    b.shoot("inspection")

    # ---- a review: accept the first answer waiting in the queue
    b.open("/reviews?queue=answered", "待审核的整改答复")
    b.shoot("reviews")
    b.click("table.data tbody tr:first-child td[data-label=通知书] a")
    b.ready("审核答复")
    b.choose("form.review-form [name=decision]", value="accept")
    b.fill("form.review-form [name=comment]", "整改到位，材料齐全")
    b.submit("form.review-form")
    b.see("整改到位，材料齐全")
    b.shoot("order")
    b.open("/orders", "整改通知书")
    b.shoot("orders")

    # ---- publication: the queue with its countdown, preview, publish
    b.open("/publication", "公开期限")
    b.shoot("publication-queue")
    b.click("table.data tbody tr:first-child td[data-label=检查编号] a")
    b.ready("公开内容预览")
    b.fill("textarea[name=redact_terms]", "张秀英")
    b.press("更新预览")
    b.press("发布检查结果")
    b.see("已于")
    b.click("input[name=include_notes]")
    b.press("保存修改（更新公开内容）")
    b.see("最近修改于")
    inspection_id = driver.current_url.rsplit("/", 1)[1]
    with app.app_context():
        assert PublishedResult.objects(inspection_id=inspection_id).count() == 1
    b.shoot("publication")
    b.open("/publication/published", "已公开的检查结果")
    b.shoot("published")

    # ---- a notice: candidates, draft, publish (numbered); another one retracted with a reason
    b.open("/notices/new", "范围和期间")
    b.fill("form.candidates-form [name=period_from]", "2026-01-01")
    b.submit("form.candidates-form")
    b.see("可通报的问题（系统预选")
    b.submit("form.notice-draft-form")
    b.see("修改草稿")
    b.shoot("notice-draft")
    b.press("发布通报")
    b.see("撤回（理由公开显示）")
    notice_id = driver.current_url.rsplit("/", 1)[1]
    with app.app_context():
        notice = Notice.objects.get(id=notice_id)
        assert notice.status == "published" and notice.number
    b.see(notice.number)
    b.shoot("notice")
    other = client.post("/api/v1/notices", headers=headers, json={
        "period_from": "2026-01-01", "period_to": "2026-12-31", "finding_ids": [], "title": "浏览器测试：待撤回的通报"}).get_json()
    client.post(f"/api/v1/notices/{other['id']}/publish", headers=headers)
    b.open(f"/notices/{other['id']}", "撤回（理由公开显示）")
    b.fill("form.retract-form [name=reason]", "通报范围有误，予以撤回")
    b.submit("form.retract-form")
    b.see("通报范围有误，予以撤回")
    b.open("/notices", "问题通报")
    b.shoot("notices")

    # ---- administration: users, the calendar, the audit log and its chain
    b.open("/users", "新建用户")
    b.fill("form.user-form [name=username]", "zichuan_clerk")
    b.fill("form.user-form [name=password]", "Clerk12345x")
    b.choose("form.user-form [name=region]", value="370302")
    b.fill("form.user-form [name=display_name]", "淄川区办公室文员")
    b.submit("form.user-form")
    b.see("已创建用户 zichuan_clerk")
    b.shoot("users")
    b.open("/calendar", "增加或修改一天")
    b.fill("form.calendar-form [name=date]", f"{date.today().year}-12-31")
    b.choose("form.calendar-form [name=working]", value="false")
    b.fill("form.calendar-form [name=note]", "浏览器测试：年末调休")
    b.submit("form.calendar-form")
    b.see("浏览器测试：年末调休")
    b.shoot("calendar")
    b.open("/audit", "哈希链校验")
    b.press("校验审计链")
    b.see("审计链完整")
    b.shoot("audit")
    b.open("/inbox", "站内通知")
    b.shoot("inbox")
    b.logout()


def test_institution_from_order_to_accepted_answer(live_server, driver, app, tmp_path):
    from inspect_api.auth.models import User
    from inspect_api.directory.models import Institution
    from inspect_api.rectification.models import Finding, Order

    with app.app_context():
        user = User.objects.get(username="inst01")
        institution = Institution.objects.get(id=user.institution_id)
        from inspect_api.inspections.models import Assignment
        from inspect_api.rectification.demo import DEMO_KEY

        first_demo = Assignment.objects.get(dedupe_key=f"publication:{DEMO_KEY}1")
        order = Order.objects.get(inspection_id=str(first_demo.id))  # issued to inst01's institution, nothing due yet
        first, second = Finding.objects(order_id=str(order.id)).order_by("seq")
        elsewhere = Institution.objects(region="370303").first()
        far_order = Order.objects(region="370303").first()
    portal = Browser(driver, live_server["base"], "portal")
    portal.login("office", expect="该账号不是机构账号")
    portal.login("inst01")
    portal.see(order.number)
    portal.shoot("orders")
    # An expired access token is refreshed once, without the person noticing.
    with app.app_context():
        from flask_jwt_extended import create_access_token

        expired = create_access_token(identity=str(user.id), expires_delta=timedelta(seconds=-60),
                                      additional_claims={"role": user.role, "region": user.region,
                                                         "tv": user.token_version})
    driver.execute_script("const k = 'inspect.portal.session'; const s = JSON.parse(sessionStorage.getItem(k));"
                          "s.access = arguments[0]; sessionStorage.setItem(k, JSON.stringify(s));", expired)
    portal.open("/", order.number)
    assert driver.execute_script("return JSON.parse(sessionStorage.getItem('inspect.portal.session')).access") != expired

    portal.click(f"a[href$='/orders/{order.id}']")
    portal.ready(order.number)
    portal.see("剩余时间")
    portal.press("签收通知书")
    portal.until(lambda d: "签收通知书" not in portal.text(), "the acknowledgement")
    card = f"section[data-finding='{first.id}']"
    portal.fill(f"{card} textarea[name=description]", "已清理消防通道杂物，设置禁止堆放标识并明确专人每日巡查。")
    portal.el(f"{card} input[name=photos]").send_keys(jpeg_file(tmp_path, 7, "after.jpg"))
    portal.submit(f"{card} form.answer-form")
    portal.see("第 1 次答复")
    requested = (second.deadline + timedelta(days=14)).isoformat()
    card2 = f"section[data-finding='{second.id}']"
    portal.fill(f"{card2} textarea[name=reason]", "需采购新的护理记录系统，供货周期约两周")
    portal.fill(f"{card2} input[name=requested_deadline]", requested)
    portal.submit(f"{card2} form.extension-form")
    portal.see("需采购新的护理记录系统，供货周期约两周")
    assert "待审批" in portal.text()
    photo = driver.find_element(By.CSS_SELECTOR, f"{card} .photos img")
    portal.until(lambda d: (photo.get_attribute("src") or "").startswith("data:image/"), "the answer photo")
    portal.shoot("order")
    portal.open(f"/orders/{order.id}/print", "整改通知书")
    portal.shoot("order-print")
    portal.open("/profile", institution.name)
    qr = driver.find_element(By.CSS_SELECTOR, ".qr img")
    portal.until(lambda d: (qr.get_attribute("src") or "").startswith("data:image/png"), "the QR code")
    portal.press("生成可打印的签到海报")
    portal.see("打开签到海报（可打印）")
    portal.shoot("profile")
    portal.logout()

    # The county office: another county's pages are refused with a clear message; its own order is reviewed.
    console = Browser(driver, live_server["base"], "console")
    console.login("county_office")
    console.open(f"/institutions/{elsewhere.id}", "无法查看该页面")
    assert "不在您的管辖范围内" in console.text()
    console.shoot("refused-institution")
    if far_order is not None:
        console.open(f"/orders/{far_order.id}", "无法查看该页面")
    console.open(f"/orders/{order.id}", "审核答复")
    console.choose("form.review-form [name=decision]", value="accept")
    console.fill("form.review-form [name=comment]", "现场照片清晰，整改到位")
    console.submit("form.review-form")
    console.see("现场照片清晰，整改到位")
    console.choose("form.extension-decision-form [name=approve]", value="true")
    console.fill("form.extension-decision-form [name=comment]", "同意延期")
    console.submit("form.extension-decision-form")
    console.see("同意延期")
    console.logout()

    portal.login("inst01")
    portal.open(f"/orders/{order.id}", "审核通过")
    text = portal.text()
    assert "现场照片清晰，整改到位" in text and "已批准" in text and requested in text
    portal.open("/inbox", "整改答复已通过")
    portal.shoot("inbox")
    portal.logout()


def test_an_institution_never_sees_another_institutions_data(live_server, driver, app):
    from inspect_api.auth.models import User
    from inspect_api.directory.models import Institution
    from inspect_api.rectification.models import Order

    with app.app_context():
        mine = Institution.objects.get(id=User.objects.get(username="inst02").institution_id)
        theirs_id = User.objects.get(username="inst01").institution_id
        theirs = list(Order.objects(institution_id=theirs_id))
        own = list(Order.objects(institution_id=str(mine.id)))
    assert theirs and own
    portal = Browser(driver, live_server["base"], "portal")
    portal.login("inst02")
    portal.see(own[0].number)
    listed = portal.text()
    assert all(o.number not in listed for o in theirs)
    portal.open(f"/orders/{theirs[0].id}", "无法查看该页面")
    assert theirs[0].number not in portal.text()
    portal.shoot("refused-order")
    portal.open("/profile", mine.name)
    portal.open("/no-such-page", "页面不存在")
    portal.logout()
    console = Browser(driver, live_server["base"], "console")
    console.login("inst02", expect="该账号不是办公室账号")
