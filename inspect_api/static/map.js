// /p/map: with the reader's consent, order the feed's institutions by distance (on the phone only).
(function () {
  "use strict";
  var button = document.getElementById("near-me");
  var list = document.getElementById("places");
  var status = document.getElementById("near-status");
  var note = document.getElementById("list-note");
  if (!button || !list || !("geolocation" in navigator) || !window.fetch) { return; }
  button.hidden = false;

  function metres(lat1, lon1, lat2, lon2) {
    var r = 6371008.8, rad = Math.PI / 180;
    var dLat = (lat2 - lat1) * rad, dLon = (lon2 - lon1) * rad;
    var a = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
            Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * r * Math.asin(Math.min(1, Math.sqrt(a)));
  }

  function distanceText(m) {
    return m < 1000 ? "约 " + Math.round(m) + " 米" : "约 " + (m / 1000).toFixed(1) + " 公里";
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function link(href, text, cls) {
    if (!href) { return null; }
    return el("a", cls ? { href: href, "class": cls } : { href: href }, text);
  }

  function render(items) {
    list.textContent = "";
    items.forEach(function (item) {
      var p = item.feature.properties;
      var li = el("li", { "class": "place" });
      var h = el("h2");
      h.appendChild(link(p.profile_url, p.name));
      li.appendChild(h);
      var meta = el("p", { "class": "meta" });
      meta.appendChild(el("span", { "class": "distance" }, distanceText(item.metres)));
      meta.appendChild(el("span", {}, p.kind_name));
      meta.appendChild(el("span", {}, p.region_name));
      li.appendChild(meta);
      li.appendChild(el("p", {}, p.address || "地址未公开"));
      var facts = el("p", { "class": "meta" });
      facts.appendChild(el("span", {}, "最近检查：" + (p.grade_name ? p.grade_name + "（" + p.inspected_on + "）" : "暂无公开结果")));
      facts.appendChild(el("span", {}, "未办结问题 " + p.open_findings + " 项"));
      if (p.satisfaction) { facts.appendChild(el("span", {}, "满意度 " + p.satisfaction.mean.toFixed(2) + " / 5")); }
      li.appendChild(facts);
      var actions = el("div", { "class": "actions" });
      [link(p.links.tel, "一键电话", "call"), link(p.links.geo, "一键导航"), link(p.links.amap, "高德地图"),
       link(p.links.baidu, "百度地图"), link(p.links.tencent, "腾讯地图")].forEach(function (a) {
        if (a) { actions.appendChild(a); }
      });
      li.appendChild(actions);
      list.appendChild(li);
    });
  }

  button.addEventListener("click", function () {
    status.textContent = "正在获取您的位置……（需要您在浏览器中允许定位）";
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lat = pos.coords.latitude, lon = pos.coords.longitude;
      status.textContent = "正在查找附近的机构……";
      fetch(button.getAttribute("data-feed"), { credentials: "omit" }).then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      }).then(function (feed) {
        var items = feed.features.map(function (f) {
          var c = f.geometry.coordinates;  // WGS-84 [lon, lat], like the phone's position
          return { feature: f, metres: metres(lat, lon, c[1], c[0]) };
        }).sort(function (a, b) { return a.metres - b.metres; }).slice(0, 20);
        render(items);
        note.textContent = "按与您的距离排列，显示最近的 " + items.length + " 家。";
        status.textContent = items.length ? "已按距离排序。" : "附近暂无机构。";
      }).catch(function () {
        status.textContent = "暂时无法获取机构列表，请稍后再试或选择区县。";
      });
    }, function () {
      status.textContent = "未获得定位授权或定位失败，请选择区县查看。";
    }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 });
  });
}());
