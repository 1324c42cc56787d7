//! Tables of counts as partner data pages and their CSV downloads publish them: with row,
//! column and grand totals, and, for a caller with aggregate access only, every figure passed
//! through the disclosure point (`alliance_app::Disclosure`: primary and secondary
//! suppression). The page and the CSV are made from the same [`FigureTable`], so a download
//! can never show more than the page.

use alliance_app::Disclosure;
use alliance_core::access::AccessLevel;
use alliance_core::analytics::suppression::{Shown, SuppressedTable};

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

/// A table with every figure shown as it is, totals included (what a record-level reader
/// sees).
fn exact(cells: &[Vec<u64>]) -> SuppressedTable {
    let columns = cells.iter().map(Vec::len).max().unwrap_or(0);
    let column_totals: Vec<u64> =
        (0..columns).map(|c| cells.iter().map(|row| row.get(c).copied().unwrap_or(0)).sum()).collect();
    let row_totals: Vec<u64> = cells.iter().map(|row| row.iter().sum()).collect();
    SuppressedTable {
        cells: cells.iter().map(|row| row.iter().map(|n| Shown::Value(*n)).collect()).collect(),
        total: Shown::Value(row_totals.iter().sum()),
        row_totals: row_totals.into_iter().map(Shown::Value).collect(),
        column_totals: column_totals.into_iter().map(Shown::Value).collect(),
    }
}

impl FigureTable {
    /// Builds a table from counts (`cells[row][column]`) as a reader at `level` may see it:
    /// every figure, totals included, through `disclosure.table` below record level; shown
    /// as they are at record level.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        slug: &'static str,
        caption: impl Into<String>,
        row_header: impl Into<String>,
        row_labels: Vec<String>,
        columns: Vec<String>,
        cells: &[Vec<u64>],
        disclosure: &Disclosure,
        level: AccessLevel,
    ) -> FigureTable {
        let (table, threshold) = match disclosure.for_level(level) {
            Some(_) => (disclosure.table(cells), disclosure.threshold()),
            None => (exact(cells), 0),
        };
        FigureTable::published(slug, caption, row_header, row_labels, columns, &table, threshold)
    }

    /// A table already suppressed (with other tables it is linked to: see
    /// `alliance_app::ed_release`), `threshold` naming its hidden figures.
    pub fn published(
        slug: &'static str,
        caption: impl Into<String>,
        row_header: impl Into<String>,
        row_labels: Vec<String>,
        columns: Vec<String>,
        table: &SuppressedTable,
        threshold: u64,
    ) -> FigureTable {
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

    /// The table as CSV (through `alliance_reports::csv`): the label column, the figure
    /// columns, a `Total` column (unless single-column), and a last `Total` row.
    pub fn csv(&self) -> String {
        let with_total = !self.single_column();
        let mut header: Vec<&str> = vec![self.row_header.as_str()];
        header.extend(self.columns.iter().map(String::as_str));
        if with_total {
            header.push("Total");
        }
        let line = |label: &str, cells: &[String], total: &str| {
            let mut line: Vec<String> = vec![label.to_string()];
            line.extend(cells.iter().cloned());
            if with_total {
                line.push(total.to_string());
            }
            line
        };
        let rows = self.rows.iter().map(|r| line(&r.label, &r.cells, &r.total)).chain(std::iter::once(line(
            "Total",
            &self.column_totals,
            &self.total,
        )));
        alliance_reports::csv::to_string(&header, rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("r{i}")).collect()
    }

    fn five() -> Disclosure {
        Disclosure::new(5).expect("a valid threshold")
    }

    #[test]
    fn aggregate_tables_hide_small_counts_and_their_complements() {
        let cells = vec![vec![12, 3], vec![7, 9]];
        let columns = vec!["a".into(), "b".into()];
        let t = FigureTable::new("t", "c", "Row", labels(2), columns, &cells, &five(), AccessLevel::Aggregate);
        assert!(t.suppressed);
        assert_eq!(t.rows[0].cells[1], "fewer than 5");
        // Row 0 has one small cell, so another of its figures is withheld too.
        assert_eq!(t.rows[0].cells.iter().chain([&t.rows[0].total]).filter(|c| c.parse::<u64>().is_err()).count(), 2);
        assert!(!t.csv().contains(",3,") && !t.csv().contains(",3\r\n"), "{}", t.csv());
    }

    #[test]
    fn the_configured_threshold_is_the_one_applied() {
        // 7 is published under a threshold of 5 and hidden under one of 10.
        let cells = vec![vec![7], vec![20]];
        let columns = vec!["a".into()];
        let t = FigureTable::new("t", "c", "Row", labels(2), columns.clone(), &cells, &five(), AccessLevel::Aggregate);
        assert_eq!(t.rows[0].cells[0], "7");
        let ten = Disclosure::new(10).expect("a valid threshold");
        let t = FigureTable::new("t", "c", "Row", labels(2), columns, &cells, &ten, AccessLevel::Aggregate);
        assert_eq!(t.rows[0].cells[0], "fewer than 10");
    }

    #[test]
    fn record_level_tables_show_everything() {
        let cells = [vec![3], vec![1]];
        let t = FigureTable::new("t", "c", "Row", labels(2), vec!["a".into()], &cells, &five(), AccessLevel::Record);
        assert!(!t.suppressed);
        assert_eq!(t.csv(), "Row,a\r\nr0,3\r\nr1,1\r\nTotal,4\r\n");
        // Row and column totals of a two-column table: 3+2=5, 1+0=1; 3+1=4, 2+0=2; 6.
        let cells = [vec![3, 2], vec![1, 0]];
        let columns = vec!["a".into(), "b".into()];
        let t = FigureTable::new("t", "c", "Row", labels(2), columns, &cells, &five(), AccessLevel::Record);
        assert_eq!(t.csv(), "Row,a,b,Total\r\nr0,3,2,5\r\nr1,1,0,1\r\nTotal,4,2,6\r\n");
    }

    #[test]
    fn csv_labels_are_quoted_and_formulas_neutralised() {
        let labels = vec!["Stoke, North".to_string(), "=HYPERLINK(\"x\")".to_string()];
        let t = FigureTable::new(
            "t",
            "c",
            "Row",
            labels,
            vec!["a".into()],
            &[vec![5], vec![6]],
            &five(),
            AccessLevel::Record,
        );
        assert_eq!(t.csv(), "Row,a\r\n\"Stoke, North\",5\r\n\"'=HYPERLINK(\"\"x\"\")\",6\r\nTotal,11\r\n");
    }
}
