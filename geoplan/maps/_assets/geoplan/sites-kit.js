/* geoplan: the browser half of the sites layer (styles, tooltips and the score popup),
   built from compact feature properties; every string goes through esc(). */
window.geoplanSitesKit = function (meta) {
  var ESC = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"};
  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return ESC[c];
    });
  }
  function isNum(v) { return typeof v === "number" && isFinite(v); }
  // Labels in the map's language: meta.t holds [Chinese, English] pairs (geoplan.io.lang).
  function both(zh, en, sep) {
    if (meta.lang === "zh") { return zh || en; }
    if (meta.lang === "en" || !zh || zh === en) { return en; }
    return en ? zh + (sep === undefined ? " " : sep) + en : zh;
  }
  function tr(key, sep) {
    var pair = (meta.t || {})[key] || [key, key];
    return both(pair[0], pair[1], sep);
  }
  function head(key) {  // a column heading: the English under the Chinese
    var pair = (meta.t || {})[key] || [key, key];
    return both(esc(pair[0]), "<span class=\"gp-en\">" + esc(pair[1]) + "</span>", "<br>");
  }
  function grouped(v, digits) {
    return v.toLocaleString("en-US", {maximumFractionDigits: digits, minimumFractionDigits: 0});
  }
  function value(v, unit) {
    if (v === "∞") { return esc(tr("unreachable")); }
    if (!isNum(v)) { return v === null || v === undefined ? "—" : esc(v); }
    if (unit === "m") { return v >= 1000 ? (v / 1000).toFixed(1) + " km" : Math.round(v) + " m"; }
    if (unit === "min") { return v.toFixed(1) + " min"; }
    if (unit === "count") { return grouped(v, 0) + (meta.lang === "en" ? "" : " 个"); }
    var u = meta.units[unit] !== undefined ? meta.units[unit] : unit;
    return grouped(v, Math.abs(v) >= 100 ? 0 : 2) + (u ? " " + esc(u) : "");
  }
  function plain(v) {
    if (v === null || v === undefined) { return "—"; }
    if (v === true) { return esc(tr("yes")); }
    if (v === false) { return esc(tr("no")); }
    if (isNum(v)) { return grouped(v, 2); }
    return esc(v);
  }
  function lookup(values, code) {
    return values && code !== null && code !== undefined ? values[code] : code;
  }
  function fixed(v, d) { return isNum(v) ? v.toFixed(d) : "—"; }
  function color(s) {
    if (!isNum(s)) { return meta.grey; }
    var n = meta.ramp.length - 1;
    var i = Math.max(0, Math.min(n, Math.round(s * n)));
    return meta.ramp[i];
  }
  function isTop(p) { return p.e === 1 && p.r !== null && p.r !== undefined && p.r <= meta.topN; }
  function style(f) {
    var p = f.properties;
    var r = meta.radius || 7;
    if (p.e !== 1) {
      return {radius: Math.max(2.5, r - 2), color: "#616161", weight: r > 4 ? 1 : 0.5,
              opacity: 0.8, fillColor: meta.grey, fillOpacity: 0.5};
    }
    var top = isTop(p);
    return {radius: top ? Math.max(r, 8) : r, color: "#263238", weight: top ? 2 : (r > 4 ? 1 : 0.5),
            opacity: 0.9, fillColor: color(p.s), fillOpacity: 0.92};
  }
  function rankText(p) {  // "3", or "3 (tied with 2)" when other sites share the rank
    return esc(p.r) + (p.ti ? " (" + esc(tr("tied").replace(/\{n\}/g, String(p.ti))) + ")" : "");
  }
  function heading(p) {
    return (p.e === 1 && p.r !== null && p.r !== undefined ? "#" + esc(p.r) + (p.ti ? "=" : "")
      + " · " : "") + esc(p.n);
  }
  function tooltip(layer) {
    var p = layer.feature.properties;
    if (p.e !== 1) {
      return "<b>" + esc(p.n) + "</b><br><span class=\"gp-bad\">" + esc(tr("ineligible"))
        + "</span>" + (p.x ? "<br>" + esc(p.x) : "");
    }
    return "<b>" + heading(p) + "</b><br>" + esc(tr("score")) + " " + fixed(p.s, 3);
  }
  function popup(layer) {
    var p = layer.feature.properties, h = [], i, c;
    h.push("<div class=\"gp-pop\"><div class=\"gp-pop-h\">" + heading(p) + "</div>");
    if (p.e === 1) {
      h.push("<div class=\"gp-pop-s\">" + esc(tr("score")) + " <b>" + fixed(p.s, 3) + "</b> · "
        + esc(tr("rank")) + " <b>" + rankText(p) + "</b> / " + esc(meta.nEligible) + "</div>");
      if (p.rb) {
        h.push("<div class=\"gp-pop-s gp-pop-rb\">" + esc(tr("robustness")) + ": " + esc(p.rb)
          + "</div>");
      }
    } else {
      h.push("<div class=\"gp-pop-s gp-bad\">" + esc(tr("ineligible")) + ": " + esc(p.x || "—")
        + "<br><span class=\"gp-muted\">" + esc(tr("score_if")) + ": "
        + fixed(p.s, 3) + "</span></div>");
    }
    h.push("<table class=\"gp-tbl\"><thead><tr><th>" + head("criterion") + "</th><th>"
      + head("value") + "</th><th>" + head("crit_score") + "</th><th>" + head("weight")
      + "</th><th>" + head("contribution") + "</th></tr></thead><tbody>");
    var total = 0;
    for (i = 0; i < meta.criteria.length; i++) {
      c = meta.criteria[i];
      var s = p.c[i];
      var w = p.w ? p.w[i] : (isNum(s) && isNum(c.weight) ? c.weight * s : null);
      if (isNum(w)) { total += w; }
      var width = isNum(s) ? Math.round(Math.max(0, Math.min(1, s)) * 100) : 0;
      h.push("<tr><td class=\"gp-crit\">"
        + both(esc(c.zh), "<span class=\"gp-en\">" + esc(c.label) + "</span>", "<br>") + "</td>"
        + "<td class=\"gp-num\">" + (p.v ? value(p.v[i], c.unit) : "—") + "</td>"
        + "<td class=\"gp-num\"><span class=\"gp-bar\"><i style=\"width:" + width
        + "%;background:" + color(s) + "\"></i></span>" + fixed(s, 2) + "</td>"
        + "<td class=\"gp-num\">" + (isNum(c.weight) ? Math.round(c.weight * 100) + "%" : "—")
        + "</td><td class=\"gp-num\">" + fixed(w, 3) + "</td></tr>");
    }
    h.push("</tbody><tfoot><tr><td>" + esc(tr("total")) + "</td><td></td><td></td><td class=\"gp-num\">"
      + (isNum(meta.weightSum) ? Math.round(meta.weightSum * 100) + "%" : "")
      + "</td><td class=\"gp-num\"><b>" + total.toFixed(3) + "</b></td></tr></tfoot></table>");
    if (meta.methodNote) { h.push("<div class=\"gp-muted\">" + esc(meta.methodNote) + "</div>"); }
    if (!p.v) { h.push("<div class=\"gp-muted\">" + esc(tr("no_values")) + "</div>"); }
    h.push("<table class=\"gp-kv\">");
    if (p.pk) {
      h.push("<tr><th>" + head("nearest_park") + "</th><td>" + plain(lookup(meta.parkNames, p.pk[0])) + " · "
        + value(p.pk[1], "m") + "</td></tr>");
    }
    if (p.st) {
      h.push("<tr><th>" + head("nearest_station") + "</th><td>" + plain(lookup(meta.stationNames, p.st[0])) + " · "
        + value(p.st[1], "m") + "</td></tr>");
    }
    if (p.dt && meta.details) {
      for (i = 0; i < meta.details.length; i++) {
        if (p.dt[i]) {
          h.push("<tr><th>" + both(esc(meta.details[i].zh || ""), "<span class=\"gp-en\">"
            + esc(meta.details[i].label) + "</span>", "<br>") + "</th><td>" + esc(p.dt[i])
            + "</td></tr>");
        }
      }
    }
    if (p.a) {
      for (i = 0; i < meta.attrs.length; i++) {
        h.push("<tr><th>" + esc(meta.attrs[i].label) + "</th><td>"
          + plain(lookup(meta.attrValues[i], p.a[i])) + "</td></tr>");
      }
    }
    h.push("</table>");
    if (p.no) { h.push("<div class=\"gp-note\">" + esc(tr("notes")) + ": " + esc(p.no) + "</div>"); }
    if (p.ex) { h.push("<div class=\"gp-expl\">" + esc(p.ex) + "</div>"); }
    h.push("</div>");
    return h.join("");
  }
  return {esc: esc, style: style, tooltip: tooltip, popup: popup, color: color, isTop: isTop,
          tr: tr, both: both, grey: meta.grey};
};

/* geoplan: a dense grid drawn as a score surface on one canvas (see geoplan/maps/_surface.py).
   d holds the cells as columns of integers; kit is the sites kit (colours, popup, labels). */
window.geoplanSurface = function (d, kit) {
  var n = d.xs.length, lat = new Float64Array(n), lng = new Float64Array(n), i;
  for (i = 0; i < n; i++) {
    lng[i] = d.origin[0] + d.xs[i] / 1e5;
    lat[i] = d.origin[1] + d.ys[i] / 1e5;
  }
  function label(i) {
    if (d.k > 1) { return ""; }
    if (d.id.text) { return d.id.text[i]; }
    var s = String(d.id.n[i]);
    while (s.length < d.id.width) { s = "0" + s; }
    return d.id.prefix + s;
  }
  function eligible(i) { return d.k > 1 ? d.s[i] >= 0 : d.e.charAt(i) === "1"; }
  function colour(i) {
    return eligible(i) && d.s[i] >= 0 ? kit.color(d.s[i] / 1000) : null;
  }
  function props(i) {
    var c = [], j;
    for (j = 0; j < d.c.length; j++) { c.push(d.c[j][i] >= 0 ? d.c[j][i] / 100 : null); }
    return {n: label(i), s: d.s[i] >= 0 ? d.s[i] / 1000 : null, r: d.r[i] || null,
            e: eligible(i) ? 1 : 0, x: d.reasons[d.x[i]] || "", c: c};
  }
  function blockPopup(i) {
    var h = ["<div class=\"gp-pop\"><div class=\"gp-pop-h\">" + kit.esc(kit.tr("cells")) + ": "
      + d.n[i] + " (" + d.k + "×" + d.k + ")</div><table class=\"gp-kv\">"];
    h.push("<tr><th>" + kit.esc(kit.tr("best")) + "</th><td>" + kit.esc(d.best[i])
      + (d.br[i] ? " · #" + d.br[i] : "") + (d.s[i] >= 0 ? " · " + (d.s[i] / 1000).toFixed(3) : "")
      + "</td></tr>");
    h.push("<tr><th>" + kit.esc(kit.tr("mean")) + "</th><td>"
      + (d.m[i] >= 0 ? (d.m[i] / 1000).toFixed(3) : "—") + "</td></tr>");
    h.push("<tr><th>" + kit.esc(kit.tr("eligible_n")) + "</th><td>" + d.ne[i] + " / " + d.n[i]
      + "</td></tr></table><div class=\"gp-muted\">" + kit.esc(kit.tr("zoom_in")) + "</div></div>");
    return h.join("");
  }
  var Surface = L.Layer.extend({
    onAdd: function (map) {
      this._map = map;
      this._canvas = L.DomUtil.create("canvas", "gp-surface leaflet-zoom-hide");
      map.getPane("gpSurface").appendChild(this._canvas);
      map.on("moveend zoomend resize viewreset", this._draw, this);
      map.on("click", this._click, this);
      this._draw();
    },
    onRemove: function (map) {
      L.DomUtil.remove(this._canvas);
      map.off("moveend zoomend resize viewreset", this._draw, this);
      map.off("click", this._click, this);
    },
    cells: function () { return n; },
    _draw: function () {
      var map = this._map, size = map.getSize(), c = this._canvas;
      var ratio = window.devicePixelRatio || 1;
      c.width = size.x * ratio; c.height = size.y * ratio;
      c.style.width = size.x + "px"; c.style.height = size.y + "px";
      L.DomUtil.setPosition(c, map.containerPointToLayerPoint([0, 0]));
      var ctx = c.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, size.x, size.y);
      var centre = map.getCenter(), p0 = map.latLngToContainerPoint(centre);
      var shape = d.cell.map(function (o) {
        var p = map.latLngToContainerPoint([centre.lat + o[1], centre.lng + o[0]]);
        return [p.x - p0.x, p.y - p0.y];
      });
      var reach = 0;
      shape.forEach(function (v) { reach = Math.max(reach, Math.abs(v[0]), Math.abs(v[1])); });
      var buckets = {}, grey = [], pt, key, j;
      for (i = 0; i < n; i++) {
        pt = map.latLngToContainerPoint([lat[i], lng[i]]);
        if (pt.x < -reach || pt.y < -reach || pt.x > size.x + reach || pt.y > size.y + reach) {
          continue;
        }
        key = colour(i);
        if (key === null) { grey.push(pt); } else { (buckets[key] = buckets[key] || []).push(pt); }
      }
      /* Paths of a few hundred cells each: Chromium's canvas slows down badly (20 s for
         60,000 hexagons) when one path holds them all. */
      var outline = reach > 9;
      function flush(style, alpha) {
        ctx.globalAlpha = alpha;
        ctx.fillStyle = style;
        ctx.fill();
        if (outline && alpha > 0.5) {
          ctx.globalAlpha = 0.5; ctx.lineWidth = 0.6; ctx.strokeStyle = "#ffffff"; ctx.stroke();
        }
      }
      function fill(points, style, alpha) {
        ctx.beginPath();
        points.forEach(function (p, q) {
          ctx.moveTo(p.x + shape[0][0], p.y + shape[0][1]);
          for (j = 1; j < shape.length; j++) { ctx.lineTo(p.x + shape[j][0], p.y + shape[j][1]); }
          ctx.closePath();
          if (q % 500 === 499) { flush(style, alpha); ctx.beginPath(); }
        });
        flush(style, alpha);
      }
      fill(grey, kit.grey || "#9e9e9e", 0.22);
      Object.keys(buckets).forEach(function (k) { fill(buckets[k], k, 0.85); });
      ctx.globalAlpha = 1;
    },
    _click: function (e) {
      var best = -1, bestD = Infinity, k = Math.cos(e.latlng.lat * Math.PI / 180), dx, dy, dd;
      for (i = 0; i < n; i++) {
        dx = (lng[i] - e.latlng.lng) * k; dy = lat[i] - e.latlng.lat; dd = dx * dx + dy * dy;
        if (dd < bestD) { bestD = dd; best = i; }
      }
      var limit = (d.cellM * 0.6) / 111320;
      if (best < 0 || bestD > limit * limit) { return; }
      var html = d.k > 1 ? blockPopup(best) : kit.popup({feature: {properties: props(best)}});
      L.popup({maxWidth: 480, minWidth: 300, className: "gp-popup"})
        .setLatLng([lat[best], lng[best]]).setContent(html).openOn(this._map);
    }
  });
  return new Surface();
};
