//! The Board pack's model lives in `alliance_app::board_pack` and its document in
//! `alliance_reports::board_pack`; the governance pages show parts of the same model, so
//! its names are re-exported here for them.

pub use alliance_app::board_pack::*;

use alliance_reports::chart::{Bar, BarLayout};

/// The pack for `quarter` as the current request's reader may see it: values of indicators
/// that belong to a restricted dataset at the reader's level of that dataset
/// ([`BoardPack::restrict_indicators`]; issue 14: metadata and indicator values follow the data).
pub async fn load_for_reader(
    state: &crate::AppState,
    quarter: alliance_core::governance::Quarter,
) -> Result<BoardPack, alliance_db::DbError> {
    let context = crate::auth::current();
    let disclosure = state.disclosure().await;
    let mut pack = BoardPack::load_with(&state.db, quarter, &context.partnership, &disclosure).await?;
    let mut levels = std::collections::HashMap::new();
    for dataset in DATASETS_OF_INDICATORS {
        let level = match &context.principal {
            Some(who) => crate::auth::access::dataset_access(state, who, dataset).await?,
            None => alliance_core::access::AccessLevel::None,
        };
        levels.insert(dataset, level);
    }
    pack.restrict_indicators(&disclosure, |d| {
        levels.get(d).copied().unwrap_or(alliance_core::access::AccessLevel::None)
    });
    Ok(pack)
}

/// A horizontal bar chart of `(label, value, colour)` with `label` giving each value's
/// words, in the pack's layout (the one SVG toolkit, `alliance_reports::chart`).
pub fn bar_chart(id: &str, title: &str, bars: &[(String, f64, &'static str)], label: impl Fn(f64) -> String) -> String {
    let bars: Vec<Bar> = bars
        .iter()
        .map(|(name, v, colour)| Bar { label: name.clone(), value: Some(*v), text: label(*v), colour })
        .collect();
    alliance_reports::chart::bar_chart(
        id,
        title,
        "The table beside the chart gives the same figures.",
        &bars,
        BarLayout { label_width: 260.0, width: 690.0, text_room: 130.0 },
    )
}
