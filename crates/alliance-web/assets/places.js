// The place register's map: the registered places (and district outlines, streets) as
// vector layers over the deployment's tile server when it names one (data-tiles), and on
// the "Add a place" page Leaflet.draw's tools, which write what is drawn into the GeoJSON
// box of the form (so the form works without JavaScript too: paste GeoJSON or choose a file).
(function () {
  var el = document.getElementById('places-map');
  if (!el || !window.L || !window.allianceMap) return;
  var base = allianceMap(el), map = base.map, control = base.control, load = base.load;
  var fitted = false;
  function fit(layer) {
    if (!fitted && layer.getBounds().isValid()) { map.fitBounds(layer.getBounds()); fitted = true; }
  }
  if (el.dataset.boundaries) load(el.dataset.boundaries).then(function (data) {
    if (!data) return;
    var districts = L.geoJSON(data, { filter: function (f) { return f.properties.layer === 'district'; },
      style: { color: '#0b0c0c', weight: 2, fill: false } }).addTo(map);
    control.addOverlay(districts, 'District outlines');
    if (!el.dataset.focus) fit(districts);
  });
  load(el.dataset.places).then(function (data) {
    if (!data) return;
    var focus = el.dataset.focus;
    var layer = L.geoJSON(data, {
      filter: function (f) { return !focus || String(f.properties.id) === focus; },
      pointToLayer: function (f, latlng) { return L.circle(latlng, { radius: f.properties.radius_metres || 50 }); },
      style: { color: '#1d70b8', weight: 2, fillOpacity: 0.25 },
      onEachFeature: function (f, l) { l.bindTooltip(f.properties.name + ' (' + f.properties.kind_label + ')'); }
    }).addTo(map);
    control.addOverlay(layer, focus ? 'This place' : 'Registered places');
    if (focus || layer.getLayers().length) fit(layer);
  });
  var box = document.getElementById('geojson');
  if (box && L.Control.Draw) {
    var drawn = new L.FeatureGroup().addTo(map);
    map.addControl(new L.Control.Draw({
      edit: { featureGroup: drawn },
      draw: { polyline: false, marker: false, circlemarker: false, polygon: { allowIntersection: false, showArea: true } }
    }));
    var write = function () {
      var features = [];
      drawn.eachLayer(function (l) {
        if (l instanceof L.Circle) {
          var c = l.getLatLng();
          features.push({ type: 'Feature', properties: { radius_metres: Math.round(l.getRadius()) },
            geometry: { type: 'Point', coordinates: [c.lng, c.lat] } });
        } else {
          features.push(l.toGeoJSON());
        }
      });
      box.value = features.length ? JSON.stringify({ type: 'FeatureCollection', features: features }) : '';
    };
    map.on(L.Draw.Event.CREATED, function (e) { drawn.addLayer(e.layer); write(); });
    map.on(L.Draw.Event.EDITED, write);
    map.on(L.Draw.Event.DELETED, write);
  }
  var file = document.getElementById('geojson-file');
  if (file && box && window.FileReader) file.addEventListener('change', function () {
    if (!file.files.length) return;
    var reader = new FileReader();
    reader.onload = function () { box.value = reader.result; };
    reader.readAsText(file.files[0]);
  });
})();
