//! The four areas of an evaluation and [`Areas`], one value for each, so that a per-area
//! computation (counts, changes, dispersion, tallies) is written once for all of them.

use std::convert::Infallible;

use serde::{Deserialize, Serialize};

/// The part an area plays in an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaRole {
    Target,
    Buffer,
    Comparison,
    ComparisonBuffer,
}

impl AreaRole {
    /// The field that holds this area in the JSON forms.
    pub fn key(self) -> &'static str {
        match self {
            AreaRole::Target => "target",
            AreaRole::Buffer => "buffer",
            AreaRole::Comparison => "comparison",
            AreaRole::ComparisonBuffer => "comparison_buffer",
        }
    }
}

impl std::fmt::Display for AreaRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AreaRole::ComparisonBuffer => "comparison buffer",
            other => other.key(),
        })
    }
}

/// One value per area: the target's always, the others' when the evaluation uses them.
///
/// It serializes as the fields `target`, `buffer`, `comparison` and `comparison_buffer`
/// (an absent area is `null`; a missing field reads as absent, as serde reads a missing
/// `Option`). The structs that hold one flatten it, so their JSON is what it was when each
/// listed the four fields itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Areas<T> {
    pub target: T,
    pub buffer: Option<T>,
    pub comparison: Option<T>,
    pub comparison_buffer: Option<T>,
}

impl<T> Areas<T> {
    /// A design with only a target.
    pub fn target_only(target: T) -> Areas<T> {
        Areas { target, buffer: None, comparison: None, comparison_buffer: None }
    }

    /// A value for every area.
    pub fn all(mut value: impl FnMut(AreaRole) -> T) -> Areas<T> {
        Areas { target: (), buffer: Some(()), comparison: Some(()), comparison_buffer: Some(()) }
            .map_roles(|role, ()| value(role))
    }

    pub fn as_ref(&self) -> Areas<&T> {
        Areas {
            target: &self.target,
            buffer: self.buffer.as_ref(),
            comparison: self.comparison.as_ref(),
            comparison_buffer: self.comparison_buffer.as_ref(),
        }
    }

    pub fn as_mut(&mut self) -> Areas<&mut T> {
        Areas {
            target: &mut self.target,
            buffer: self.buffer.as_mut(),
            comparison: self.comparison.as_mut(),
            comparison_buffer: self.comparison_buffer.as_mut(),
        }
    }

    /// The value of an area, `None` when the evaluation does not use it.
    pub fn get(&self, role: AreaRole) -> Option<&T> {
        self.as_ref().into_value(role)
    }

    pub fn get_mut(&mut self, role: AreaRole) -> Option<&mut T> {
        self.as_mut().into_value(role)
    }

    fn into_value(self, role: AreaRole) -> Option<T> {
        self.into_iter().find_map(|(r, value)| (r == role).then_some(value))
    }

    /// The areas used, in the order target, buffer, comparison, comparison buffer.
    pub fn iter(&self) -> IntoIter<&T> {
        self.as_ref().into_iter()
    }

    /// The same areas, each value computed from the area's role and its own value.
    fn try_map_roles<U, E>(self, mut f: impl FnMut(AreaRole, T) -> Result<U, E>) -> Result<Areas<U>, E> {
        let target = f(AreaRole::Target, self.target)?;
        let mut other = |role: AreaRole, value: Option<T>| value.map(|v| f(role, v)).transpose();
        Ok(Areas {
            target,
            buffer: other(AreaRole::Buffer, self.buffer)?,
            comparison: other(AreaRole::Comparison, self.comparison)?,
            comparison_buffer: other(AreaRole::ComparisonBuffer, self.comparison_buffer)?,
        })
    }

    pub fn try_map<U, E>(self, mut f: impl FnMut(T) -> Result<U, E>) -> Result<Areas<U>, E> {
        self.try_map_roles(|_, value| f(value))
    }

    pub fn map_roles<U>(self, mut f: impl FnMut(AreaRole, T) -> U) -> Areas<U> {
        let Ok(areas) = self.try_map_roles(|role, value| Ok::<U, Infallible>(f(role, value)));
        areas
    }

    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Areas<U> {
        self.map_roles(|_, value| f(value))
    }

    /// Pairs each area's values; an area is kept when both have it.
    pub fn zip<U>(self, other: Areas<U>) -> Areas<(T, U)> {
        Areas {
            target: (self.target, other.target),
            buffer: self.buffer.zip(other.buffer),
            comparison: self.comparison.zip(other.comparison),
            comparison_buffer: self.comparison_buffer.zip(other.comparison_buffer),
        }
    }
}

impl<T> Areas<Vec<T>> {
    /// Rows of per-area values (e.g. months) as one column per area, for the areas every
    /// row has.
    pub fn columns(rows: impl IntoIterator<Item = Areas<T>>) -> Areas<Vec<T>> {
        rows.into_iter().fold(Areas::all(|_| Vec::new()), |columns, row| {
            columns.zip(row).map(|(mut column, value)| {
                column.push(value);
                column
            })
        })
    }
}

/// An area's role and, when the evaluation uses it, its value.
type Slot<T> = (AreaRole, Option<T>);

fn used<T>((role, value): Slot<T>) -> Option<(AreaRole, T)> {
    value.map(|v| (role, v))
}

/// The iterator over the areas used, with their roles.
pub type IntoIter<T> = std::iter::FilterMap<std::array::IntoIter<Slot<T>, 4>, fn(Slot<T>) -> Option<(AreaRole, T)>>;

impl<T> IntoIterator for Areas<T> {
    type Item = (AreaRole, T);
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        let slots = [
            (AreaRole::Target, Some(self.target)),
            (AreaRole::Buffer, self.buffer),
            (AreaRole::Comparison, self.comparison),
            (AreaRole::ComparisonBuffer, self.comparison_buffer),
        ];
        slots.into_iter().filter_map(used as fn(Slot<T>) -> Option<(AreaRole, T)>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design() -> Areas<u64> {
        Areas { target: 1, buffer: None, comparison: Some(3), comparison_buffer: Some(4) }
    }

    #[test]
    fn iterates_the_areas_used_in_order() {
        let roles: Vec<_> = design().into_iter().collect();
        assert_eq!(roles, vec![(AreaRole::Target, 1), (AreaRole::Comparison, 3), (AreaRole::ComparisonBuffer, 4)]);
        assert_eq!(design().get(AreaRole::Comparison), Some(&3));
        assert_eq!(design().get(AreaRole::Buffer), None);
        let mut d = design();
        *d.get_mut(AreaRole::ComparisonBuffer).expect("used") += 10;
        assert_eq!(d.comparison_buffer, Some(14));
        assert_eq!(d.get_mut(AreaRole::Buffer), None);
    }

    #[test]
    fn maps_keep_the_design() {
        assert_eq!(
            design().map_roles(|role, v| format!("{role} {v}")),
            Areas {
                target: "target 1".to_string(),
                buffer: None,
                comparison: Some("comparison 3".to_string()),
                comparison_buffer: Some("comparison buffer 4".to_string()),
            }
        );
        assert_eq!(design().try_map(|v| if v < 4 { Ok(v) } else { Err(v) }), Err(4));
        let all = Areas::all(|role| role.key().len());
        assert_eq!(all.into_iter().map(|(_, n)| n).collect::<Vec<_>>(), vec![6, 6, 10, 17]);
        assert_eq!(design().zip(Areas::target_only('t')), Areas::target_only((1, 't')));
    }

    #[test]
    fn columns_keep_the_areas_every_row_has() {
        let rows = [design(), Areas { buffer: Some(2), comparison_buffer: None, ..design() }];
        let columns = Areas::columns(rows);
        assert_eq!(
            columns,
            Areas { target: vec![1, 1], buffer: None, comparison: Some(vec![3, 3]), comparison_buffer: None }
        );
    }

    #[test]
    fn serializes_as_four_fields_absent_as_null() {
        let text = serde_json::to_string(&design()).expect("json");
        assert_eq!(text, r#"{"target":1,"buffer":null,"comparison":3,"comparison_buffer":4}"#);
        let read: Areas<u64> =
            serde_json::from_str(r#"{"target":1,"comparison":3,"comparison_buffer":4}"#).expect("json");
        assert_eq!(read, design());
    }
}
