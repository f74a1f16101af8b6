/* The incident map of the dashboard (a Streamlit component, or a standalone page when window.IM_DOC is set).
 *
 * The Leaflet map and its basemap are drawn once; every new document from Python (a filter change) redraws only
 * the incident layers, so zoom and position stay where the analyst left them. Text from articles arrives as JSON
 * data: popups are HTML that Python escaped, tooltips and labels become text nodes, nothing is ever evaluated.
 */
(function () {
  "use strict";

  var standalone = !!window.IM_DOC;
  var map = null, doc = null, digest = null, basemap = null, control = null;
  var typeLayers = [], hiddenTypes = {}, items = [], heatOn = false;
  var shading = null, heat = null, tiles = null, outlines = null, zonesLayer = null, labels = null;
  var legendBox = null, emptyBox = null, timeBox = null, hintBox = null, selMarker = null, selectedId = null;
  var seq = 0, docChars = 0, aggMax = 1, userMoved = false, time = {k: -1, steps: [], playing: null, step: "month", mode: "cumulative"};

  function post(type, data) {
    var msg = {isStreamlitMessage: true, type: type};
    for (var k in data || {}) { msg[k] = data[k]; }
    window.parent.postMessage(msg, "*");
  }

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }

  function textNode(s, cls) {
    var d = document.createElement("div");
    d.textContent = s;
    if (cls) { d.className = cls; }
    return d;
  }

  function T(key) { return (doc && doc.texts[key]) || ""; }

  // ---- the map, drawn once ---------------------------------------------------------------------------------

  function init(args) {
    map = L.map("map", {preferCanvas: true, scrollWheelZoom: false, minZoom: 3, maxZoom: 18, zoomSnap: 0.5});
    map.attributionControl.setPrefix(false);  // tile layers bring their own attribution; outlines need none
    window.imMap = map;  // tests read the zoom and centre
    // panes: outlines under the shading under the footprints; labels above the shapes, under the markers
    [["im-base", 200], ["im-shade", 250], ["im-zones", 390], ["im-labels", 450]].forEach(function (p) {
      map.createPane(p[0]).style.zIndex = p[1];
    });
    map.getPane("im-labels").style.pointerEvents = "none";
    L.control.scale({metric: true, imperial: false, position: "bottomleft"}).addTo(map);
    control = L.control.layers(null, null, {collapsed: true, position: "topright"}).addTo(map);
    map.on("overlayadd overlayremove", function (e) {
      var i = typeLayers.indexOf(e.layer);
      if (i >= 0) { hiddenTypes[doc.types[i].key] = e.type === "overlayremove"; }
      if (e.layer === heat) { heatOn = e.type === "overlayadd"; }
      if (e.layer === shading) { legend(); }
    });
    addFitButton();
    wheelOnlyWithFocus();
    var view = parseView(args.view);
    if (view) { map.setView([view[0], view[1]], view[2]); userMoved = true; } else { map.fitBounds(doc.bounds); }
    map.on("moveend", function () { window.clearTimeout(map._imViewTimer); map._imViewTimer = window.setTimeout(writeView, 300); });
    map.on("zoomend", showLabels);
    map.on("dragstart zoomstart", function () { userMoved = true; });
    legendBox = L.control({position: "bottomright"});
    legendBox.onAdd = function () {
      var d = L.DomUtil.create("details", "im-legend");
      d.open = window.innerWidth > 600;  // a phone keeps the map free until asked
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      return d;
    };
    legendBox.addTo(map);
    emptyBox = L.DomUtil.create("div", "im-empty", map.getContainer());
    document.addEventListener("click", function (e) {
      var b = e.target.closest && e.target.closest("button.im-review");
      if (b && !standalone) {
        seq += 1;
        post("streamlit:setComponentValue", {value: {select: b.getAttribute("data-id"), seq: seq, t: Date.now()},
                                             dataType: "json"});
      }
    });
    if (!standalone) { window.setInterval(keepViewInUrl, 1000); }
  }

  function parseView(text) {
    var parts = String(text || "").split(",").map(Number);
    if (parts.length !== 3 || parts.some(isNaN)) { return null; }
    if (Math.abs(parts[0]) > 90 || Math.abs(parts[1]) > 180 || parts[2] < 3 || parts[2] > 18) { return null; }
    return parts;
  }

  function viewText() {
    var c = map.getCenter();
    return c.lat.toFixed(3) + "," + c.lng.toFixed(3) + "," + map.getZoom();
  }

  // The map view goes into the dashboard's URL (view=lat,lon,zoom), so a reload or a shared link opens it again.
  function writeView() {
    if (standalone || !userMoved) { return; }
    try {
      var loc = window.parent.location, params = new URLSearchParams(loc.search);
      if (params.get("view") === viewText()) { return; }
      params.set("view", viewText());
      window.parent.history.replaceState(window.parent.history.state, "", loc.pathname + "?" + params + loc.hash);
    } catch (e) { /* a parent on another origin: the view is simply not kept */ }
  }

  function keepViewInUrl() {
    // Streamlit rewrites the URL with the filters after each run; put the view back when it was dropped
    try {
      if (userMoved && new URLSearchParams(window.parent.location.search).get("view") !== viewText()) { writeView(); }
    } catch (e) { /* see writeView */ }
  }

  function addFitButton() {
    var fit = L.control({position: "topleft"});
    fit.onAdd = function () {
      var b = L.DomUtil.create("button", "im-fit leaflet-bar");
      b.type = "button";
      b.textContent = "⤢";
      L.DomEvent.disableClickPropagation(b);
      b.addEventListener("click", function () { userMoved = true; map.fitBounds(doc.bounds); });
      return b;
    };
    fit.addTo(map);
    map._imFit = fit;
  }

  // The mouse wheel scrolls the page; it zooms the map only once the map has been clicked or has focus.
  function wheelOnlyWithFocus() {
    var box = map.getContainer();
    hintBox = L.DomUtil.create("div", "im-hint", box);
    map.on("click focus", function () { map.scrollWheelZoom.enable(); hintBox.style.opacity = 0; });
    map.on("blur", function () { map.scrollWheelZoom.disable(); });
    box.addEventListener("mouseleave", function () { map.scrollWheelZoom.disable(); });
    box.addEventListener("wheel", function () {
      if (map.scrollWheelZoom.enabled()) { return; }
      hintBox.textContent = T("wheel_hint");
      hintBox.style.opacity = 1;
      window.clearTimeout(hintBox._t);
      hintBox._t = window.setTimeout(function () { hintBox.style.opacity = 0; }, 1500);
    }, {passive: true});
  }

  // ---- the basemap, fetched once ---------------------------------------------------------------------------

  function drawBasemap() {
    if (!basemap || !map || outlines) { return; }
    outlines = L.layerGroup([
      L.geoJSON(basemap.countries, {pane: "im-base", interactive: false,
        style: {color: "#9aa4ad", weight: 1, fillColor: "#eef1f3", fillOpacity: 1}}),
      L.geoJSON(basemap.departments, {pane: "im-base", interactive: false,
        style: {color: "#7b8794", weight: 0.8, fillColor: "#ffffff", fillOpacity: 0.6}})]);
    zonesLayer = L.geoJSON(basemap.zones, {pane: "im-zones",
      style: {color: "#333", weight: 1.5, dashArray: "2 4", fill: false},
      onEachFeature: function (f, layer) {
        layer.bindTooltip(function () { return textNode(f.properties.name); }, {sticky: true});
      }});
    labels = {departments: labelGroup(basemap.labels.departments, "im-label-dep"),
              provinces: labelGroup(basemap.labels.provinces, "im-label-prov"),
              zones: labelGroup(basemap.labels.zones, "im-label-zone")};
    labels.all = L.layerGroup();
    shading = L.geoJSON(basemap.departments, {pane: "im-shade", style: shadeStyle,
      onEachFeature: function (f, layer) {
        layer.bindTooltip(function () {
          return textNode(f.properties.name + ": " + ((doc.departments || {})[f.properties.name] || 0));
        }, {sticky: true});
      }});
    heat = new Heat();
    outlines.addTo(map);
    zonesLayer.addTo(map);
    labels.all.addTo(map);
    control.addOverlay(outlines, esc(T("layer_outlines")));
    control.addOverlay(zonesLayer, esc(T("layer_zones")));
    control.addOverlay(labels.all, esc(T("layer_labels")));
    control.addOverlay(shading, esc(T("layer_shading")));
    control.addOverlay(heat, esc(T("layer_heat")));
    showLabels();
  }

  function labelGroup(rows, cls) {
    return L.layerGroup(rows.map(function (r) {
      return L.marker([r[0], r[1]], {interactive: false, keyboard: false, pane: "im-labels",
        icon: L.divIcon({className: "im-label " + cls, html: textNode(r[2]), iconSize: null})});
    }));
  }

  // Department names at a country zoom, province names when zoomed in; the zones' names always.
  function showLabels() {
    if (!labels) { return; }
    var z = map.getZoom(), all = labels.all;
    all.clearLayers();
    all.addLayer(labels.zones);
    all.addLayer(z >= 7.5 ? labels.provinces : labels.departments);
  }

  function shadeStyle(f) {
    var n = (doc && doc.departments[f.properties.name]) || 0, ramp = doc ? doc.shades : ["#fff"];
    var top = Math.max.apply(null, [1].concat(Object.values((doc && doc.departments) || {})));
    var colour = n === 0 ? ramp[0] : ramp[Math.min(ramp.length - 1, 1 + Math.floor((ramp.length - 2) * n / top))];
    return {color: "#666", weight: 0.6, fillColor: colour, fillOpacity: 0.8};
  }

  // ---- the incidents, redrawn on every new document --------------------------------------------------------

  function pin(t) {
    return L.divIcon({className: "im-icon", iconSize: [22, 22], iconAnchor: [11, 11],
      html: "<div class=\"im-pin\" style=\"background:" + esc(t.colour) + "\">" + t.glyph + "</div>"});
  }

  function areaIcon(t, n) {
    return L.divIcon({className: "im-icon", iconSize: [26, 26], iconAnchor: [13, 13],
      html: "<div class=\"im-area\" style=\"border-color:" + esc(t.colour) + ";color:" + esc(t.colour) + "\">≈"
            + (n > 1 ? n : "") + "</div>"});
  }

  function clusterIcon(t) {
    return function (cluster) {
      var n = cluster.getChildCount(), size = n < 10 ? 28 : n < 100 ? 34 : 40;
      return L.divIcon({className: "im-cluster-icon", iconSize: [size, size],
        html: "<div class=\"im-cluster\" style=\"background:" + esc(t.colour) + "\">" + n + "</div>"});
    };
  }

  function redraw() {
    typeLayers.forEach(function (g) { if (g) { control.removeLayer(g); map.removeLayer(g); } });
    typeLayers = [];
    items = [];
    if (tiles) { map.removeLayer(tiles); tiles = null; }
    if (doc.tiles) {
      tiles = L.tileLayer(doc.tiles[0], {attribution: doc.tiles[1], maxZoom: 18}).addTo(map);
      tiles.bringToBack();
    }
    if (outlines) { outlines.eachLayer(function (l) { l.setStyle({fillOpacity: doc.tiles ? 0 : l === outlines.getLayers()[0] ? 1 : 0.6}); }); }
    doc.types.forEach(function (t, i) {
      if (!doc.counts[i]) { return; }
      var g = L.layerGroup();
      typeLayers[i] = g;
      g._imCluster = L.markerClusterGroup({maxClusterRadius: 40, showCoverageOnHover: false,
                                           iconCreateFunction: clusterIcon(t), chunkedLoading: true});
      g.addLayer(g._imCluster);
      g._imMarkers = [];
      control.addOverlay(g, esc(t.label) + " (" + doc.counts[i] + ")");
      if (!hiddenTypes[t.key]) { g.addTo(map); }
    });
    doc.points.forEach(function (p) {
      var t = doc.types[p[2]], g = typeLayers[p[2]];
      var m = L.marker([p[0], p[1]], {icon: pin(t)});
      m.bindPopup(p[5], {maxWidth: 360});
      m.bindTooltip(function () { return textNode(p[6]); });
      g._imMarkers.push(m);
      items.push({kind: "point", layer: m, group: g, day: p[4], lat: p[0], lon: p[1]});
    });
    typeLayers.forEach(function (g) { if (g) { g._imCluster.addLayers(g._imMarkers); } });
    aggMax = Math.max.apply(null, [1].concat(doc.aggregates.map(function (a) { return a[3]; })));
    doc.aggregates.forEach(function (a) {
      var t = doc.types[a[2]], g = typeLayers[a[2]];
      var c = L.circleMarker([a[0], a[1]], {radius: radius(a[3]), fill: true, fillOpacity: 0.6, weight: 1,
                                            color: t.colour, fillColor: t.colour});
      c.bindTooltip(function () { return textNode(a[4]); });
      g.addLayer(c);
      items.push({kind: "aggregate", layer: c, group: g, hist: a[5], n: a[3], shownN: a[3], lat: a[0], lon: a[1]});
    });
    doc.areas.forEach(function (a) {
      var t = doc.types[a[1]], g = typeLayers[a[1]];
      var fp = L.geoJSON(doc.shapes[a[0]], {style: {color: t.colour, weight: 2, dashArray: "6 4", fillColor: t.colour,
                                                    fillOpacity: 0.08}});
      fp.bindTooltip(function () { return textNode(a[7]); }, {sticky: true});
      var m = L.marker([a[3], a[4]], {icon: areaIcon(t, a[2])});
      m.bindPopup(a[5], {maxWidth: 380});
      m.bindTooltip(function () { return textNode(a[6]); }, {sticky: true});
      g.addLayer(fp);
      g.addLayer(m);
      items.push({kind: "area", layer: m, footprint: fp, group: g, hist: a[8], n: a[2], type: t, shown: a[2]});
    });
    if (shading) {
      shading.setStyle(shadeStyle);
      if (doc.shade && !map.hasLayer(shading)) { shading.addTo(map); }
      if (!doc.shade && map.hasLayer(shading)) { map.removeLayer(shading); }
    }
    emptyBox.textContent = doc.drawn ? "" : T("empty");
    emptyBox.style.display = doc.drawn ? "none" : "block";
    map._imFit.getContainer().title = T("fit");
    timeline();
    legend();
    heatData();
    // for tests and the benchmark: which document is on screen, and how large it was
    document.body.setAttribute("data-digest", digest || "standalone");
    document.body.setAttribute("data-doc-chars", String(docChars));
  }

  // circle area grows with the count, relative to the largest circle: at a million incidents every circle would
  // otherwise reach the largest size
  function radius(n) { return 3 + 17 * Math.sqrt(n / aggMax); }

  function legend() {
    var box = legendBox.getContainer(), rows = ["<summary>" + esc(T("legend_title")) + "</summary>"];
    doc.types.forEach(function (t, i) {
      rows.push("<div><span class=\"im-pin\" style=\"background:" + esc(t.colour) + "\">" + t.glyph + "</span>"
                + esc(t.label) + " (" + doc.counts[i] + ")</div>");
    });
    rows.push("<div><span class=\"im-area\" style=\"border-color:#555;color:#555\">≈</span>"
              + esc(T("legend_area")) + "</div>");
    if (doc.texts.legend_aggregated) {
      rows.push("<div><span class=\"im-agg\"></span>" + esc(doc.texts.legend_aggregated) + "</div>");
    }
    if (shading && map.hasLayer(shading)) {
      var top = Math.max.apply(null, [1].concat(Object.values(doc.departments)));
      rows.push("<div class=\"im-ramp-title\">" + esc(T("legend_shading")) + "</div><div class=\"im-ramp\">"
                + doc.shades.map(function (c, i) {
                  var lo = i === 0 ? 0 : i === 1 ? 1 : Math.ceil((i - 1) * top / (doc.shades.length - 2));
                  return "<span style=\"background:" + esc(c) + "\">" + lo + (i === doc.shades.length - 1 ? "+" : "")
                         + "</span>";
                }).join("") + "</div>");
    }
    box.innerHTML = rows.join("");
  }

  // ---- density ---------------------------------------------------------------------------------------------

  // A small canvas heatmap: every incident (or circle of incidents) adds a blurred spot; the summed darkness is
  // then coloured. Area incidents are left out: their place is an area, not a spot.
  var Heat = L.Layer.extend({
    onAdd: function (m) {
      this._canvas = L.DomUtil.create("canvas", "im-heat leaflet-zoom-hide");
      m.getPanes().overlayPane.appendChild(this._canvas);
      m.on("moveend zoomend resize", this._draw, this);
      this._draw();
    },
    onRemove: function (m) {
      L.DomUtil.remove(this._canvas);
      m.off("moveend zoomend resize", this._draw, this);
    },
    setData: function (pts) { this._pts = pts; if (this._map) { this._draw(); } },
    _draw: function () {
      var m = this._map, size = m.getSize(), c = this._canvas, pts = this._pts || [];
      c.width = size.x; c.height = size.y;
      L.DomUtil.setPosition(c, m.containerPointToLayerPoint([0, 0]));
      var ctx = c.getContext("2d"), r = 18, brush = Heat.brush(r);
      var top = Math.max.apply(null, [1].concat(pts.map(function (p) { return p[2]; })));
      pts.forEach(function (p) {
        var q = m.latLngToContainerPoint([p[0], p[1]]);
        if (q.x < -r || q.y < -r || q.x > size.x + r || q.y > size.y + r) { return; }
        ctx.globalAlpha = Math.min(1, 0.15 + 0.85 * Math.sqrt(p[2] / top));
        ctx.drawImage(brush, q.x - r, q.y - r);
      });
      if (!pts.length) { return; }
      var img = ctx.getImageData(0, 0, size.x, size.y), d = img.data, grad = Heat.gradient();
      for (var i = 3; i < d.length; i += 4) {
        var a = d[i];
        if (a) { d[i - 3] = grad[a * 4]; d[i - 2] = grad[a * 4 + 1]; d[i - 1] = grad[a * 4 + 2]; d[i] = Math.min(230, a * 2); }
      }
      ctx.putImageData(img, 0, 0);
    }
  });
  Heat.brush = function (r) {
    if (!Heat._brush) {
      var b = document.createElement("canvas"), g;
      b.width = b.height = 2 * r;
      g = b.getContext("2d").createRadialGradient(r, r, 0, r, r, r);
      g.addColorStop(0, "rgba(0,0,0,1)"); g.addColorStop(1, "rgba(0,0,0,0)");
      b.getContext("2d").fillStyle = g; b.getContext("2d").fillRect(0, 0, 2 * r, 2 * r);
      Heat._brush = b;
    }
    return Heat._brush;
  };
  Heat.gradient = function () {
    if (!Heat._grad) {
      var c = document.createElement("canvas"), ctx = c.getContext("2d"), g = ctx.createLinearGradient(0, 0, 256, 0);
      c.width = 256; c.height = 1;
      g.addColorStop(0.2, "#2c7bb6"); g.addColorStop(0.5, "#abd9e9"); g.addColorStop(0.7, "#fdae61");
      g.addColorStop(1, "#d7191c");
      ctx.fillStyle = g; ctx.fillRect(0, 0, 256, 1);
      Heat._grad = ctx.getImageData(0, 0, 256, 1).data;
    }
    return Heat._grad;
  };

  function heatData() {
    if (!heat) { return; }
    heat.setData(items.filter(function (it) { return it.kind !== "area" && it.on !== false; })
      .map(function (it) { return [it.lat, it.lon, it.kind === "aggregate" ? it.shownN : 1]; }));
  }

  // ---- time playback ---------------------------------------------------------------------------------------

  function dayText(d) { return new Date(d * 86400000).toISOString().slice(0, 10); }

  function timeSteps() {
    var lo = Infinity, hi = -Infinity;
    items.forEach(function (it) {
      if (it.kind === "point") { if (it.day >= 0) { lo = Math.min(lo, it.day); hi = Math.max(hi, it.day); } }
      else if (it.hist && it.hist.length) { lo = Math.min(lo, it.hist[0][0]); hi = Math.max(hi, it.hist[it.hist.length - 1][0]); }
    });
    var steps = [];
    if (lo > hi) { return steps; }
    if (time.step === "week") {
      var monday = lo - ((new Date(lo * 86400000).getUTCDay() + 6) % 7);
      for (var s = monday; s <= hi; s += 7) { steps.push([s, s + 6]); }
    } else {
      var d = new Date(lo * 86400000);
      d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
      while (d.getTime() / 86400000 <= hi) {
        var next = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
        steps.push([d.getTime() / 86400000, next.getTime() / 86400000 - 1]);
        d = next;
      }
    }
    return steps;
  }

  function timeline() {
    if (timeBox) { map.removeControl(timeBox); timeBox = null; }
    stopPlaying();
    if (!doc.playback) { time.k = -1; return; }
    if (doc.bins === "month") { time.step = "month"; }
    var keepEnd = time.k >= 0 && time.steps[time.k] ? time.steps[time.k][1] : null;
    time.steps = timeSteps();
    time.k = -1;
    if (keepEnd !== null) {
      for (var i = 0; i < time.steps.length; i++) { if (time.steps[i][1] >= keepEnd) { time.k = i; break; } }
    }
    timeBox = L.control({position: "topleft"});  // over the Pacific: no incident there, and Lima stays clear
    timeBox.onAdd = function () {
      var box = L.DomUtil.create("div", "im-time");
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      var play = L.DomUtil.create("button", "im-play", box), slider = L.DomUtil.create("input", "", box);
      var label = L.DomUtil.create("span", "im-time-label", box);
      var step = L.DomUtil.create("select", "", box), mode = L.DomUtil.create("select", "", box);
      var all = L.DomUtil.create("button", "im-time-all", box);
      play.type = all.type = "button";
      all.textContent = "⟲";
      all.title = T("time_reset");
      slider.type = "range"; slider.min = 0; slider.max = Math.max(0, time.steps.length - 1);
      slider.value = Math.max(0, time.k);
      [["week", T("step_week")], ["month", T("step_month")]].forEach(function (o) {
        var opt = new Option(o[1], o[0], false, time.step === o[0]);
        opt.disabled = o[0] === "week" && doc.bins === "month";  // large selections are binned by month
        step.add(opt);
      });
      [["cumulative", T("mode_cumulative")], ["window", T("mode_window")]].forEach(function (o) {
        mode.add(new Option(o[1], o[0], false, time.mode === o[0]));
      });
      function show() {
        play.textContent = time.playing ? "❚❚" : "▶";
        play.title = time.playing ? T("pause") : T("play");
        slider.value = Math.max(0, time.k);
        var s = time.steps[time.k];
        label.textContent = !s ? T("time_all") : time.mode === "cumulative"
          ? T("time_until").replace("{date}", dayText(s[1]))
          : T("time_window").replace("{start}", dayText(s[0])).replace("{end}", dayText(s[1]));
      }
      time.show = show;
      slider.addEventListener("input", function () { time.k = Number(slider.value); applyTime(); show(); });
      play.addEventListener("click", function () {
        if (time.playing) { stopPlaying(); show(); return; }
        if (time.k < 0 || time.k >= time.steps.length - 1) { time.k = 0; }
        applyTime();
        time.playing = window.setInterval(function () {
          if (time.k >= time.steps.length - 1) { stopPlaying(); } else { time.k += 1; applyTime(); }
          show();
        }, 700);
        show();
      });
      step.addEventListener("change", function () { time.step = step.value; stopPlaying(); time.k = -1;
        time.steps = timeSteps(); slider.max = Math.max(0, time.steps.length - 1); applyTime(); show(); });
      mode.addEventListener("change", function () { time.mode = mode.value; applyTime(); show(); });
      all.addEventListener("click", function () { stopPlaying(); time.k = -1; applyTime(); show(); });
      show();
      return box;
    };
    timeBox.addTo(map);
    applyTime();
  }

  function stopPlaying() { if (time.playing) { window.clearInterval(time.playing); time.playing = null; } }

  // Shows what the chosen period holds: cumulative (everything up to its end) or the period alone.
  function applyTime() {
    var s = time.k >= 0 ? time.steps[time.k] : null;
    var lo = !s ? -Infinity : time.mode === "cumulative" ? -Infinity : s[0], hi = s ? s[1] : Infinity;
    function inside(d) { return d >= lo && d <= hi && (d >= 0 || !s); }
    function sum(hist) {
      var n = 0;
      for (var i = 0; i < hist.length; i++) { if (inside(hist[i][0])) { n += hist[i][1]; } }
      return n;
    }
    var byGroup = new Map();
    items.forEach(function (it) {
      if (it.kind === "point") {
        if (!byGroup.has(it.group)) { byGroup.set(it.group, []); }
        it.on = inside(it.day);
        if (it.on) { byGroup.get(it.group).push(it.layer); }
        return;
      }
      var n = s ? sum(it.hist) : it.n;
      var on = n > 0;
      it.shownN = n;
      it.on = on;
      [it.layer, it.footprint].forEach(function (l) {
        if (!l) { return; }
        if (on && !it.group.hasLayer(l)) { it.group.addLayer(l); }
        if (!on && it.group.hasLayer(l)) { it.group.removeLayer(l); }
      });
      if (it.kind === "aggregate" && on) { it.layer.setRadius(radius(n)); }
      if (it.kind === "area" && on && n !== it.shown) { it.layer.setIcon(areaIcon(it.type, n)); it.shown = n; }
    });
    byGroup.forEach(function (layers, g) {
      if (layers.length === g._imMarkers.length && g._imCluster.getLayers().length === layers.length) { return; }
      g._imCluster.clearLayers();
      g._imCluster.addLayers(layers);
    });
    heatData();
  }

  // ---- the incident chosen in the table ----------------------------------------------------------------------

  function select(sel) {
    var id = sel ? sel.id : null;
    if (id === selectedId) { return; }
    selectedId = id;
    if (selMarker) { map.removeLayer(selMarker); selMarker = null; }
    if (!sel) { return; }
    selMarker = L.marker([sel.lat, sel.lon], {interactive: false, keyboard: false, zIndexOffset: 1000,
      icon: L.divIcon({className: "im-selected", iconSize: [44, 44], iconAnchor: [22, 22],
                      html: "<div class=\"im-ring\"></div>"})}).addTo(map);
    selMarker.bindTooltip(textNode(sel.text), {permanent: true, direction: "top", offset: [0, -20]});
    userMoved = true;
    map.setView([sel.lat, sel.lon], Math.max(map.getZoom(), 8));
  }

  // ---- Streamlit -------------------------------------------------------------------------------------------

  function render(args) {
    if (args.digest !== digest) {
      digest = args.digest;
      doc = JSON.parse(args.doc);
      docChars = args.doc.length;
      if (!map) { init(args); drawBasemap(); }
      redraw();
    }
    select(args.selected || null);
  }

  function loadBasemap(promise) {
    promise.then(function (b) { basemap = b; drawBasemap(); if (doc) { redraw(); } });
  }

  if (standalone) {
    basemap = window.IM_BASEMAP;
    render({doc: JSON.stringify(window.IM_DOC), digest: "standalone", view: null});
  } else {
    window.addEventListener("message", function (e) {
      if (e.data && e.data.type === "streamlit:render") {
        var args = e.data.args;
        if (!map) { post("streamlit:setFrameHeight", {height: args.height}); }
        render(args);
      }
    });
    loadBasemap(fetch("basemap.json").then(function (r) { return r.json(); }));
    post("streamlit:componentReady", {apiVersion: 1});
  }
}());
