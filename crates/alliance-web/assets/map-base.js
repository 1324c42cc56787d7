// What the hotspot map (map.js) and the place register's map (places.js) share: the Leaflet
// map over the tile server the deployment names (data-tiles, `alliance serve --tiles`), the
// layer control, a JSON loader, and the streets the police data names (data-streets, its
// snapped points) as the offline background, over tiles a layer to add.
window.allianceMap = function (el) {
  var map = L.map(el, { zoomSnap: 0.25 });
  // Plain text: Leaflet shows an attribution as HTML.
  function text(s) { var d = document.createElement('div'); d.textContent = s || ''; return d.innerHTML; }
  var tiles = el.dataset.tiles ? L.tileLayer(el.dataset.tiles, { maxZoom: 19, referrerPolicy: 'strict-origin',
    attribution: text(el.dataset.tilesAttribution) }).addTo(map) : null;
  var control = L.control.layers(null, null, { collapsed: false }).addTo(map);
  if (tiles) control.addOverlay(tiles, 'Background map');
  function load(url) { return fetch(url).then(function (r) { return r.ok ? r.json() : null; }); }
  // Thousands of points: drawn on one canvas, not as SVG elements.
  var dots = L.canvas({ padding: 0.5 });
  if (el.dataset.streets) load(el.dataset.streets).then(function (data) {
    if (!data) return;
    var layer = L.geoJSON(data, { pointToLayer: function (f, latlng) {
      return L.circleMarker(latlng, { renderer: dots, radius: 1.5, stroke: false, fillColor: '#505a5f', fillOpacity: 0.8 });
    }, onEachFeature: function (f, l) { l.bindTooltip(f.properties.name); } });
    if (!tiles) layer.addTo(map);
    control.addOverlay(layer, 'Streets (police data)');
  });
  return { map: map, control: control, load: load };
};
