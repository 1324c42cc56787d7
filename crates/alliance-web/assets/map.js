// The hotspot map: vector layers from the GeoJSON endpoints over the tile server the
// deployment names (data-tiles, `alliance serve --tiles`), or offline (the default) over
// the streets the police data names (its snapped points) as the background.
(function () {
  var el = document.getElementById('hotspot-map');
  if (!el || !window.L || !window.allianceMap) return;
  var base = allianceMap(el), map = base.map, control = base.control, load = base.load;
  var colours = { '3': '#b2182b', '2': '#ef8a62', '1': '#fddbc7', '0': '#f7f7f7', '-1': '#d1e5f0', '-2': '#67a9cf', '-3': '#2166ac' };
  load(el.dataset.boundaries).then(function (data) {
    if (!data) return;
    var lsoas = L.geoJSON(data, { filter: function (f) { return f.properties.layer !== 'district'; },
      style: { color: '#888', weight: 0.5, fill: false } }).addTo(map);
    var districts = L.geoJSON(data, { filter: function (f) { return f.properties.layer === 'district'; },
      style: { color: '#0b0c0c', weight: 2 } }).addTo(map);
    control.addOverlay(lsoas, 'LSOA boundaries');
    control.addOverlay(districts, 'District outlines');
    if (lsoas.getBounds().isValid()) map.fitBounds(lsoas.getBounds());
  });
  // The place register's outlines (parks, town centres, zones), off until chosen.
  load('/api/v1/places').then(function (data) {
    if (!data || !data.features.length) return;
    var layer = L.geoJSON(data, {
      pointToLayer: function (f, latlng) { return L.circle(latlng, { radius: f.properties.radius_metres || 50 }); },
      style: { color: '#1d70b8', weight: 2, fill: false },
      onEachFeature: function (f, l) { l.bindTooltip(f.properties.name); }
    });
    control.addOverlay(layer, 'Places (register)');
  });
  if (el.dataset.hotspots) load(el.dataset.hotspots).then(function (data) {
    if (!data) return;
    var layer = L.geoJSON(data, { style: function (f) {
      var bin = String(f.properties.gi_bin || 0);
      return { stroke: false, fillColor: colours[bin], fillOpacity: bin === '0' ? 0 : 0.75 };
    }, onEachFeature: function (f, l) {
      l.bindTooltip('Crimes ' + f.properties.count + ', z ' + f.properties.z.toFixed(2));
    } }).addTo(map);
    control.addOverlay(layer, 'Gi* hotspots');
    if (!map._loaded && layer.getBounds().isValid()) map.fitBounds(layer.getBounds());
  });
  // Emerging hot spots: hot patterns in reds (recent ones darkest), cold ones in blue.
  var patterns = { 'new-hot-spot': '#b2182b', 'consecutive-hot-spot': '#b2182b', 'intensifying-hot-spot': '#b2182b',
    'persistent-hot-spot': '#ef8a62', 'diminishing-hot-spot': '#fddbc7', 'sporadic-hot-spot': '#fddbc7',
    'oscillating-hot-spot': '#fddbc7', 'historical-hot-spot': '#fddbc7' };
  if (el.dataset.emerging) load(el.dataset.emerging).then(function (data) {
    if (!data) return;
    var layer = L.geoJSON(data, { style: function (f) {
      return { stroke: false, fillColor: patterns[f.properties.category] || '#67a9cf', fillOpacity: 0.75 };
    }, onEachFeature: function (f, l) {
      l.bindTooltip(f.properties.category.replace(/-/g, ' ') + ', crimes ' + f.properties.count);
    } }).addTo(map);
    control.addOverlay(layer, 'Emerging hot spots');
  });
  if (el.dataset.density) load(el.dataset.density).then(function (data) {
    if (!data) return;
    var max = 0;
    data.features.forEach(function (f) { max = Math.max(max, f.properties.density); });
    var layer = L.geoJSON(data, { style: function (f) {
      return { stroke: false, fillColor: '#54278f', fillOpacity: 0.7 * f.properties.density / (max || 1) };
    } });
    control.addOverlay(layer, 'Kernel density');
  });
})();
