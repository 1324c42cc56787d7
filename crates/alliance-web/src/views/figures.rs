//! Tables of counts as partner data pages and their CSV downloads publish them: with row,
//! column and grand totals, and, for a caller with aggregate access only, every figure passed
//! through `alliance_core::analytics::suppression` (primary and secondary suppression). The
//! page and the CSV are made from the same [`FigureTable`], so a download can never show
//! more than the page.

use alliance_core::analytics::suppression::{Shown, Suppression};

/// One published table. Figures are already text ("12", "fewer than 5", "withheld").
#[derive(Debug, Clone)]
pub struct FigureTable {
    /// The file name of its CSV download (`by-month.csv`), also the HTML id (`by-month`).
    pub slug: &'static str,
    pub caption: String,
    /// The header of the label column ("Month").
    pub row_header: String,
    pub columns: Vec<String>,
    pub rows: Vec<FigureRow>,
    pub column_totals: Vec<String>,
    pub total: String,
    /// Whether any figure was hidden.
    pub suppressed: bool,
}

#[derive(Debug, Clone)]
pub struct FigureRow {
    pub label: String,
    pub cells: Vec<String>,
    pub total: String,
}

impl FigureTable {
    /// Builds a table from counts (`cells[row][column]`). With `suppression` (aggregate
    /// access) every figure, totals included, goes through `Suppression::table`; without it
    /// (record access) figures are shown as they are.
    pub fn new(
        slug: &'static str,
        caption: impl Into<String>,
        row_header: impl Into<String>,
        row_labels: Vec<String>,
        columns: Vec<String>,
        cells: &[Vec<u64>],
        suppression: Option<Suppression>,
    ) -> FigureTable {
        let threshold = suppression.map_or(0, |s| s.threshold);
        let table = match suppression {
            Some(s) => s.table(cells),
            // Threshold 0 hides nothing: the same shape, every figure shown.
            None => Suppression::new(0).table(cells),
        };
        let text = |s: &Shown| s.display(threshold);
        let suppressed = table.total.is_hidden()
            || table
                .row_totals
                .iter()
                .chain(&table.column_totals)
                .chain(table.cells.iter().flatten())
                .any(|s| s.is_hidden());
        let rows = row_labels
            .into_iter()
            .zip(table.cells.iter().zip(&table.row_totals))
            .map(|(label, (cells, total))| FigureRow {
                label,
                cells: cells.iter().map(text).collect(),
                total: text(total),
            })
            .collect();
        FigureTable {
            slug,
            caption: caption.into(),
            row_header: row_header.into(),
            columns,
            rows,
            column_totals: table.column_totals.iter().map(text).collect(),
            total: text(&table.total),
            suppressed,
        }
    }

    /// Whether the table has one column of figures (its row totals would repeat it).
    pub fn single_column(&self) -> bool {
        self.columns.len() == 1
    }

    /// The table as CSV: the label column, the figure columns, a `Total` column (unless
    /// single-column), and a last `Total` row.
    pub fn csv(&self) -> String {
        let mut out = String::new();
        let mut header = vec![self.row_header.clone()];
        header.extend(self.columns.iter().cloned());
        if !self.single_column() {
            header.push("Total".into());
        }
        push_line(&mut out, &header);
        for row in &self.rows {
            let mut line = vec![row.label.clone()];
            line.extend(row.cells.iter().cloned());
            if !self.single_column() {
                line.push(row.total.clone());
            }
            push_line(&mut out, &line);
        }
        let mut line = vec!["Total".to_string()];
        line.extend(self.column_totals.iter().cloned());
        if !self.single_column() {
            line.push(self.total.clone());
        }
        push_line(&mut out, &line);
        out
    }
}

/// Appends one CSV line, quoting fields that need it.
pub fn push_line(out: &mut String, fields: &[String]) {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| if f.contains([',', '"', '\n', '\r']) { format!("\"{}\"", f.replace('"', "\"\"")) } else { f.clone() })
        .collect();
    out.push_str(&quoted.join(","));
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("r{i}")).collect()
    }

    #[test]
    fn aggregate_tables_hide_small_counts_and_their_complements() {
        let cells = vec![vec![12, 3], vec![7, 9]];
        let t = FigureTable::new(
            "t",
            "c",
            "Row",
            labels(2),
            vec!["a".into(), "b".into()],
            &cells,
            Some(alliance_app::Disclosure::default().suppression()),
        );
        assert!(t.suppressed);
        assert_eq!(t.rows[0].cells[1], "fewer than 5");
        // Row 0 has one small cell, so another of its figures is withheld too.
        assert_eq!(t.rows[0].cells.iter().chain([&t.rows[0].total]).filter(|c| c.parse::<u64>().is_err()).count(), 2);
        assert!(!t.csv().contains(",3,") && !t.csv().contains(",3\n"), "{}", t.csv());
    }

    #[test]
    fn record_level_tables_show_everything() {
        let t = FigureTable::new("t", "c", "Row", labels(2), vec!["a".into()], &[vec![3], vec![1]], None);
        assert!(!t.suppressed);
        assert_eq!(t.csv(), "Row,a\nr0,3\nr1,1\nTotal,4\n");
    }

    #[test]
    fn csv_fields_are_quoted() {
        let mut out = String::new();
        push_line(&mut out, &["a,b".into(), "say \"hi\"".into()]);
        assert_eq!(out, "\"a,b\",\"say \"\"hi\"\"\"\n");
    }
}
