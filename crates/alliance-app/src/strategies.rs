//! Strategies as data: importing a strategy file and exporting a strategy as one, for the
//! command line (`alliance strategy import|export`) and the web (`/strategies/import`,
//! `/strategies/{id}/export`) alike. The format is `docs/formats/strategy.md`; the parser
//! (`alliance_ingest::strategy`) checks the whole file before anything is stored, and the
//! storage (`Db::import_strategy`) stores it in one transaction with its audit row, so a
//! refused file changes nothing. Who may import is decided by the front end before it reads
//! the file (partnership staff on the web; the operator at the command line).

use alliance_db::audit::Actor;
use alliance_db::governance::StrategyImported;
use alliance_db::{Db, DbError};
use alliance_ingest::SourceFile;

use crate::imports::{excerpt, MAX_AUDIT_DETAIL};
use crate::AppError;

/// The audit action of a refused import (an import that stores is audited as a governance
/// change in its own transaction).
pub const IMPORT_ACTION: &str = "import strategy";

/// How an import ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrategyImport {
    Imported(StrategyImported),
    /// The file was refused, nothing stored: the message names the file, the field and the
    /// reason.
    Refused(String),
}

/// Imports one strategy file as a new strategy. `Err` only for faults.
pub async fn import(db: &Db, actor: &Actor, file: &SourceFile) -> Result<StrategyImport, AppError> {
    let result = match alliance_ingest::strategy::parse(file) {
        Err(e) => StrategyImport::Refused(e.to_string()),
        Ok(seed) => match db.import_strategy(&seed, &file.name, actor).await {
            Ok(done) => StrategyImport::Imported(done),
            Err(DbError::Conflict { field, reason } | DbError::Invalid { field, reason }) => {
                StrategyImport::Refused(format!("{}: field {field}: {reason}", file.name))
            }
            Err(DbError::Ingest(e)) => StrategyImport::Refused(e.to_string()),
            Err(e) => return Err(e.into()),
        },
    };
    if let StrategyImport::Refused(reason) = &result {
        let target = if file.name.is_empty() { "(no file)".to_string() } else { excerpt(&file.name, 200) };
        db.audit(&actor.event(IMPORT_ACTION, &target, &excerpt(&format!("FAILED: {reason}"), MAX_AUDIT_DETAIL)))
            .await?;
    }
    Ok(result)
}

/// A strategy as a strategy file: a file name made from its name, and the JSON.
pub async fn export(db: &Db, id: i64) -> Result<(String, String), AppError> {
    let seed = db.strategy_as_file(id).await?;
    Ok((file_name(&seed.name), alliance_ingest::strategy::to_json(&seed)))
}

/// `staffordshire-violence-reduction-strategy-2024-2029.json` from a strategy's name: ASCII
/// letters and digits, the rest as single hyphens, at most 80 characters.
pub fn file_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let slug: String = out.trim_end_matches('-').chars().take(80).collect();
    let slug = slug.trim_end_matches('-');
    format!("{}.json", if slug.is_empty() { "strategy" } else { slug })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_plain() {
        assert_eq!(
            file_name("Staffordshire and Stoke-on-Trent Violence Reduction Strategy 2024–2029"),
            "staffordshire-and-stoke-on-trent-violence-reduction-strategy-2024-2029.json"
        );
        assert_eq!(file_name("«»"), "strategy.json");
        assert!(file_name(&"a b ".repeat(100)).len() <= 85);
    }
}
