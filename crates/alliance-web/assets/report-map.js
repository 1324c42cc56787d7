// The report form's map, a progressive enhancement: it fills the same hidden longitude and
// latitude fields the form always submits, so without JavaScript nothing changes and the
// typed place is used. Leaflet and the ward outlines load only when someone asks for the map
// (a cheap phone need not fetch them otherwise). No tiles: nothing is requested from
// another site.
(function () {
  var controls = document.getElementById('report-map-controls');
  var form = controls && controls.closest('form');
  if (!controls || !form) return;
  var el = document.getElementById('report-map');
  var show = document.getElementById('report-map-show');
  var clear = document.getElementById('report-map-clear');
  var status = document.getElementById('report-map-status');
  var lon = form.querySelector('input[name=longitude]');
  var lat = form.querySelector('input[name=latitude]');
  var map = null;
  var marker = null;
  controls.hidden = false;

  function load(tag, attrs) {
    return new Promise(function (resolve, reject) {
      var node = document.createElement(tag);
      Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
      node.onload = resolve;
      node.onerror = function () { reject(new Error('could not load ' + (attrs.src || attrs.href))); };
      document.head.appendChild(node);
    });
  }

  function place(latlng, where) {
    // 5 decimals (about 1 metre) is what the form sends; the public never sees finer than 250 m.
    lon.value = latlng.lng.toFixed(5);
    lat.value = latlng.lat.toFixed(5);
    if (marker) marker.setLatLng(latlng);
    else marker = L.circleMarker(latlng, { radius: 9, color: '#0b0c0c', weight: 3, fillColor: '#ffdd00', fillOpacity: 1 }).addTo(map);
    status.textContent = 'You chose a point in ' + where + '. It is only ever published as part of a 250 metre square.';
    clear.hidden = false;
  }

  function start(areas) {
    el.hidden = false;
    map = L.map(el, { zoomSnap: 0.25 });
    var wards = L.geoJSON(areas, {
      style: { color: '#505a5f', weight: 1, fillColor: '#1d70b8', fillOpacity: 0.06 },
      onEachFeature: function (f, layer) {
        var name = f.properties.name + (f.properties.district ? ', ' + f.properties.district : '');
        layer.bindTooltip(name, { sticky: true });
        layer.on('click', function (e) {
          L.DomEvent.stopPropagation(e);
          place(e.latlng, name);
        });
      }
    }).addTo(map);
    map.on('click', function () {
      status.textContent = 'That point is outside the partnership\'s area. Choose a point inside the outlines, or type the place.';
    });
    if (wards.getBounds().isValid()) map.fitBounds(wards.getBounds());
    else map.setView([53.0, -2.0], 9);
    if (lon.value && lat.value) place(L.latLng(Number(lat.value), Number(lon.value)), 'the place you chose before');
    show.hidden = true;
  }

  show.addEventListener('click', function () {
    show.disabled = true;
    status.textContent = 'Loading the map…';
    load('link', { rel: 'stylesheet', href: '/assets/leaflet/leaflet.css' })
      .then(function () { return window.L ? null : load('script', { src: '/assets/leaflet/leaflet.js' }); })
      .then(function () { return fetch(el.dataset.areas); })
      .then(function (r) { if (!r.ok) throw new Error('the map areas could not be loaded'); return r.json(); })
      .then(function (areas) { status.textContent = ''; start(areas); })
      .catch(function () {
        show.disabled = false;
        status.textContent = 'The map could not be loaded. Type the place instead.';
      });
  });

  clear.addEventListener('click', function () {
    lon.value = '';
    lat.value = '';
    if (marker) { map.removeLayer(marker); marker = null; }
    status.textContent = 'The point was removed. Type the place, or choose another point.';
    clear.hidden = true;
  });

  // A form shown again with errors keeps the point chosen before: say so.
  if (lon.value && lat.value) status.textContent = 'You chose a point on the map. Open the map to see or change it.';
})();
