"""The directory blueprint is registered and regions load at start."""


def test_regions_listed(client, office):
    r = client.get("/api/v1/regions", headers=office[1])
    assert r.status_code == 200
    codes = {item["code"]: item for item in r.get_json()["items"]}
    for code in ("370000", "370100", "370300", "370302", "370303", "370304", "370305", "370306", "370321",
                 "370322", "370323", "370102"):
        assert code in codes
    assert codes["370302"]["parent"] == "370300" and codes["370302"]["name"] == "淄川区"
    assert codes["370300"]["level"] == "city" and codes["370000"]["parent"] is None


def test_create_and_get_institution(client, office, new_institution):
    created = new_institution(location={"lat": 36.65, "lon": 117.97})
    r = client.get(f"/api/v1/institutions/{created['id']}", headers=office[1])
    assert r.status_code == 200
    assert r.get_json()["location"] == {"lat": 36.65, "lon": 117.97}
    assert len(created["public_id"]) == 8
