//! The place register's pages: the list with its map, one place, and the "Add a place" form
//! (draw on the map, choose a GeoJSON file or paste GeoJSON).

use alliance_core::domain::place::PlaceKind;
use alliance_db::places::Place;
use askama::Template;

use super::Layout;
use crate::forms::Form;

/// A place's kind as shown.
fn kind_label(kind: &str) -> &'static str {
    kind.parse::<PlaceKind>().map(PlaceKind::label).unwrap_or("Place")
}

/// An area in hectares, as the register shows it (one decimal below 100 ha).
pub fn hectares(square_metres: f64) -> String {
    let ha = square_metres / 10_000.0;
    if ha < 100.0 {
        format!("{ha:.1}")
    } else {
        alliance_core::format::count(ha.round() as i64)
    }
}

#[derive(Template)]
#[template(path = "places.html")]
pub struct PlacesPage {
    pub layout: Layout,
    pub places: Vec<Place>,
    pub may_edit: bool,
}

impl PlacesPage {
    pub fn kind(&self, kind: &str) -> &'static str {
        kind_label(kind)
    }
    pub fn hectares(&self, square_metres: &f64) -> String {
        hectares(*square_metres)
    }
}

#[derive(Template)]
#[template(path = "place.html")]
pub struct PlacePage {
    pub layout: Layout,
    pub place: Place,
    pub may_edit: bool,
    /// Why the place could not be removed, when a removal was refused.
    pub refusal: Option<String>,
}

impl PlacePage {
    pub fn kind(&self) -> &'static str {
        kind_label(&self.place.kind)
    }
    pub fn hectares(&self) -> String {
        hectares(self.place.square_metres)
    }
}

#[derive(Template)]
#[template(path = "place_form.html")]
pub struct PlaceFormPage {
    pub layout: Layout,
    pub form: Form,
    pub kinds: Vec<(&'static str, &'static str)>,
}

impl PlaceFormPage {
    /// The form, which keeps its one-time key when shown again (a new one when first shown).
    pub fn new(layout: Layout, mut form: Form) -> PlaceFormPage {
        crate::forms::ensure_submission_key(&mut form.values);
        PlaceFormPage { layout, form, kinds: PlaceKind::choices() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_are_shown_in_hectares() {
        assert_eq!(hectares(7_450.0), "0.7");
        assert_eq!(hectares(395_000.0), "39.5");
        assert_eq!(hectares(12_345_678.0), "1,235");
    }
}
