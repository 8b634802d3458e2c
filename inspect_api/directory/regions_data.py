"""Administrative divisions loaded at start (idempotent): Shandong, its cities, counties of Zibo and Jinan.

Codes and names follow the 2023 list of the Ministry of Civil Affairs (莱芜市 was
merged into 济南市 in 2019, hence 370116 莱芜区 and 370117 钢城区).  Offices
elsewhere add their rows here (or through the database); every code used by
an institution or inspector must be one of the loaded regions.
"""

from __future__ import annotations

PROVINCES = {"370000": "山东省"}

CITIES = {
    "370100": "济南市", "370200": "青岛市", "370300": "淄博市", "370400": "枣庄市", "370500": "东营市",
    "370600": "烟台市", "370700": "潍坊市", "370800": "济宁市", "370900": "泰安市", "371000": "威海市",
    "371100": "日照市", "371300": "临沂市", "371400": "德州市", "371500": "聊城市", "371600": "滨州市",
    "371700": "菏泽市",
}

COUNTIES = {
    # 淄博市
    "370302": "淄川区", "370303": "张店区", "370304": "博山区", "370305": "临淄区", "370306": "周村区",
    "370321": "桓台县", "370322": "高青县", "370323": "沂源县",
    # 济南市
    "370102": "历下区", "370103": "市中区", "370104": "槐荫区", "370105": "天桥区", "370112": "历城区",
    "370113": "长清区", "370114": "章丘区", "370115": "济阳区", "370116": "莱芜区", "370117": "钢城区",
    "370124": "平阴县", "370126": "商河县",
}


def all_regions() -> list[dict[str, str | None]]:
    """Every row as ``{code, name, parent, level}``, parents before children."""
    rows: list[dict[str, str | None]] = []
    for code, name in PROVINCES.items():
        rows.append({"code": code, "name": name, "parent": None, "level": "province"})
    for code, name in CITIES.items():
        rows.append({"code": code, "name": name, "parent": code[:2] + "0000", "level": "city"})
    for code, name in COUNTIES.items():
        rows.append({"code": code, "name": name, "parent": code[:4] + "00", "level": "county"})
    return rows
