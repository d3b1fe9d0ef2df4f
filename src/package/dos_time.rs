//! Zip entry timestamps: MS-DOS date and time fields from a Unix time.

/// The fixed time used when `SOURCE_DATE_EPOCH` is not set:
/// 1980-01-01 00:00:00, the earliest time a zip entry can carry.
pub const DEFAULT_EPOCH: i64 = 315_532_800;

/// `(time, date)` in MS-DOS format for a Unix time, in UTC. Times before
/// 1980 or after 2107 are clamped to the representable range; odd seconds
/// round down (DOS time has 2-second resolution).
pub fn dos_datetime(unix: i64) -> (u16, u16) {
    const MAX: i64 = 4_354_819_198; // 2107-12-31 23:59:58
    let t = unix.clamp(DEFAULT_EPOCH, MAX);
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (year, month, day) = crate::calendar::civil_from_days(days);
    let time = ((secs / 3600) << 11) | (((secs % 3600) / 60) << 5) | ((secs % 60) / 2);
    let date = ((year - 1980) << 9) | ((month as i64) << 5) | day as i64;
    (time as u16, date as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        // 1980-01-01 00:00:00 → date 0x0021 (day 1, month 1), time 0.
        assert_eq!(dos_datetime(DEFAULT_EPOCH), (0, 0x21));
        // 2012-11-12 13:14:16 UTC.
        let (time, date) = dos_datetime(1_352_726_056);
        assert_eq!(date >> 9, 2012 - 1980);
        assert_eq!((date >> 5) & 0xF, 11);
        assert_eq!(date & 0x1F, 12);
        assert_eq!(
            (time >> 11, (time >> 5) & 0x3F, (time & 0x1F) * 2),
            (13, 14, 16)
        );
        // Before 1980 clamps.
        assert_eq!(dos_datetime(0), dos_datetime(DEFAULT_EPOCH));
    }
}
