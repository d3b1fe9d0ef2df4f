//! Durations as people write them in iiswsgi.toml (`90s`, `10m`, `1h30m`):
//! `[[install.run]] timeout`.

/// The seconds `text` names: one or more `<number><unit>` with unit `s`,
/// `m` or `h`, largest first (`1h30m`); at least one second, at most a day.
pub fn seconds(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("it is empty".into());
    }
    let mut total: u64 = 0;
    let mut last_unit = u64::MAX;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("expected a number at `{rest}`"));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{}` is too large", &rest[..digits]))?;
        let unit = match rest[digits..].chars().next() {
            Some('s') => 1,
            Some('m') => 60,
            Some('h') => 3600,
            Some(c) => return Err(format!("`{c}` is not a unit (s, m or h)")),
            None => return Err(format!("`{number}` has no unit (s, m or h)")),
        };
        if unit >= last_unit {
            return Err("give each unit once, largest first (\"1h30m\")".into());
        }
        last_unit = unit;
        total = number
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or("it is too large")?;
        rest = &rest[digits + 1..];
    }
    match total {
        0 => Err("it must be at least one second".into()),
        t if t > 86_400 => Err("it is longer than a day".into()),
        t => Ok(t),
    }
}

/// The default `[[install.run]]` and `[[build.run]]` timeout: ten minutes.
pub const DEFAULT_SETUP_TIMEOUT: u64 = 600;

/// A command's `timeout` in seconds, or the default when it gives none
/// (validation has refused one that does not parse).
pub fn timeout_or_default(text: Option<&str>) -> u64 {
    text.map_or(Ok(DEFAULT_SETUP_TIMEOUT), seconds)
        .unwrap_or(DEFAULT_SETUP_TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::seconds;

    #[test]
    fn units_add_up() {
        assert_eq!(seconds("90s"), Ok(90));
        assert_eq!(seconds("10m"), Ok(600));
        assert_eq!(seconds("1h30m"), Ok(5400));
        assert_eq!(seconds(" 2m5s "), Ok(125));
    }

    #[test]
    fn what_is_not_a_duration_says_why() {
        assert_eq!(seconds("10").unwrap_err(), "`10` has no unit (s, m or h)");
        assert_eq!(seconds("5d").unwrap_err(), "`d` is not a unit (s, m or h)");
        assert_eq!(seconds("m").unwrap_err(), "expected a number at `m`");
        assert!(seconds("30m1h").unwrap_err().contains("largest first"));
        assert_eq!(seconds("0s").unwrap_err(), "it must be at least one second");
        assert_eq!(seconds("25h").unwrap_err(), "it is longer than a day");
        assert_eq!(seconds("").unwrap_err(), "it is empty");
    }
}
