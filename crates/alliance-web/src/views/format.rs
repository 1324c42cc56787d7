//! Number formatting for pages, in the GOV.UK style (thousands separators, one decimal).

/// `12345` → `12,345`.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A change in words: `up 5.2%`, `down 10.0%`, `no change`.
pub fn change(percent: f64) -> String {
    if percent.abs() < 0.05 {
        "no change".into()
    } else if percent > 0.0 {
        format!("up {:.1}%", percent)
    } else {
        format!("down {:.1}%", -percent)
    }
}

/// A rate with one decimal place.
pub fn rate(value: f64) -> String {
    format!("{value:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_counts_and_changes() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(-1234567), "-1,234,567");
        assert_eq!(change(5.24), "up 5.2%");
        assert_eq!(change(-10.0), "down 10.0%");
        assert_eq!(change(0.01), "no change");
    }
}
