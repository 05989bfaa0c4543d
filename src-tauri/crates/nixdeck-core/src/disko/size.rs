//! The size notations disko passes on to its tools: sgdisk's (`512M`, `+1G`,
//! `-0`, plain sector numbers), parted's (`1MiB`, `50%`, `-1s`) and lvcreate's
//! (`10G`, `100%FREE`, `50%VG`). Units are binary for sgdisk and lvcreate, as the
//! tools read them.

/// Bytes per logical sector assumed for planning (what nearly every disk reports).
pub const SECTOR: u64 = 512;
/// sgdisk's and parted's default alignment: 1 MiB.
pub const ALIGNMENT_BYTES: u64 = 1 << 20;

fn binary_unit(c: char) -> Option<u64> {
    Some(match c.to_ascii_uppercase() {
        'K' => 1 << 10,
        'M' => 1 << 20,
        'G' => 1 << 30,
        'T' => 1 << 40,
        'P' => 1 << 50,
        _ => return None,
    })
}

/// A disko `size` (`"512M"`, `"1G"`, `"2048"` sectors) in bytes; `None` for `100%`
/// and anything disko would refuse.
pub fn parse_size(text: &str) -> Option<u64> {
    parse_sgdisk_amount(text)
}

/// Whether `text` is a size disko's gpt type accepts: `100%` or digits with an
/// optional K/M/G/T/P suffix.
pub fn is_valid_gpt_size(text: &str) -> bool {
    text == "100%" || parse_sgdisk_amount(text).is_some() && !text.ends_with(['s', 'S'])
}

/// An sgdisk amount without sign, in bytes: digits with an optional binary suffix
/// (`K`…`P`), or a sector count (no suffix, or `s`).
fn parse_sgdisk_amount(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, multiplier) = match text.chars().last()? {
        c if c.is_ascii_digit() => (text, SECTOR),
        's' | 'S' => (&text[..text.len() - 1], SECTOR),
        c => (&text[..text.len() - c.len_utf8()], binary_unit(c)?),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(multiplier)
}

/// A start or end as sgdisk's `--new` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SgdiskPosition {
    /// `0`: the default (start of the largest free block, or the end of the block).
    Default,
    /// A sector number.
    Absolute(u64),
    /// `+N`: N sectors after the partition's start (for ends) or after the block's start.
    After(u64),
    /// `-N`: N sectors before the end of the free block.
    BeforeEnd(u64),
}

/// Parses sgdisk's position notation; amounts are converted to sectors.
pub fn parse_sgdisk_position(text: &str) -> Option<SgdiskPosition> {
    let text = text.trim();
    let sectors = |t: &str| parse_sgdisk_amount(t).map(|b| b / SECTOR);
    if let Some(rest) = text.strip_prefix('+') {
        let n = sectors(rest)?;
        return Some(if n == 0 {
            SgdiskPosition::Default
        } else {
            SgdiskPosition::After(n)
        });
    }
    if let Some(rest) = text.strip_prefix('-') {
        return Some(SgdiskPosition::BeforeEnd(sectors(rest)?));
    }
    let n = sectors(text)?;
    Some(if n == 0 {
        SgdiskPosition::Default
    } else {
        SgdiskPosition::Absolute(n)
    })
}

/// A parted position (legacy `table` type) in sectors on a disk of `total`
/// sectors: `%` of the disk, `s`, `B`, decimal `kB`/`MB`/`GB`/`TB`, binary
/// `KiB`/`MiB`/`GiB`/`TiB`, plain numbers in MB (parted's default unit); negative
/// values count back from the end.
pub fn parse_parted_position(text: &str, total: u64) -> Option<u64> {
    let text = text.trim();
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let split = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (number, unit) = body.split_at(split);
    let value: f64 = number.parse().ok()?;
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let bytes_per: f64 = match unit.trim() {
        "%" => {
            let sectors = (total as f64 * value / 100.0).floor() as u64;
            return Some(if negative {
                total.saturating_sub(sectors)
            } else {
                sectors
            });
        }
        "s" => SECTOR as f64,
        "B" => 1.0,
        "kB" | "KB" => 1e3,
        "" | "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KiB" => 1024.0,
        "MiB" => (1u64 << 20) as f64,
        "GiB" => (1u64 << 30) as f64,
        "TiB" => (1u64 << 40) as f64,
        _ => return None,
    };
    let sectors = (value * bytes_per / SECTOR as f64).round() as u64;
    Some(if negative {
        total.saturating_sub(sectors)
    } else {
        sectors
    })
}

/// An `lvcreate` size: `-L` amounts (binary units, no unit meaning MiB) or `-l`
/// percentages of the volume group (`%VG`, `%FREE`, `%PVS`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LvSize {
    /// A fixed size in bytes.
    Bytes(u64),
    /// A percentage of the whole volume group.
    PercentOfGroup(f64),
    /// A percentage of the space still free when the volume is created.
    PercentOfFree(f64),
}

/// Parses an LVM `size` option.
pub fn parse_lv_size(text: &str) -> Option<LvSize> {
    let text = text.trim();
    if let Some((number, what)) = text.split_once('%') {
        let pct: f64 = number.parse().ok()?;
        if !(0.0..=100.0).contains(&pct) {
            return None;
        }
        return match what {
            "FREE" => Some(LvSize::PercentOfFree(pct)),
            "VG" | "PVS" | "ORIGIN" | "" => Some(LvSize::PercentOfGroup(pct)),
            _ => None,
        };
    }
    let last = text.chars().last()?;
    let (number, multiplier) = if last.is_ascii_digit() {
        (text, 1u64 << 20)
    } else if last == 'b' || last == 'B' {
        (&text[..text.len() - 1], 1)
    } else {
        (&text[..text.len() - 1], binary_unit(last)?)
    };
    let value: f64 = number.parse().ok()?;
    (value.is_finite() && value >= 0.0).then_some(LvSize::Bytes((value * multiplier as f64) as u64))
}

/// `bytes` in the largest binary unit that keeps it readable (`512 MiB`, `1.5 GiB`).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let rounded = (value * 10.0).round() / 10.0;
    if unit == 0 || rounded.fract() == 0.0 {
        format!("{:.0} {}", rounded, UNITS[unit])
    } else {
        format!("{:.1} {}", rounded, UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgdisk_sizes_are_binary_and_bare_numbers_are_sectors() {
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("2048"), Some(2048 * 512));
        assert_eq!(parse_size("100%"), None);
        assert_eq!(parse_size("1.5G"), None);
        assert_eq!(parse_size("G"), None);
        assert!(is_valid_gpt_size("100%") && is_valid_gpt_size("1T") && !is_valid_gpt_size("1GB"));
    }

    #[test]
    fn sgdisk_positions() {
        use SgdiskPosition::*;
        assert_eq!(parse_sgdisk_position("0"), Some(Default));
        assert_eq!(parse_sgdisk_position("+0"), Some(Default));
        assert_eq!(parse_sgdisk_position("-0"), Some(BeforeEnd(0)));
        assert_eq!(parse_sgdisk_position("+512M"), Some(After(1 << 20)));
        assert_eq!(parse_sgdisk_position("1M"), Some(Absolute(2048)));
        assert_eq!(parse_sgdisk_position("-100G"), Some(BeforeEnd(100 << 21)));
        assert_eq!(parse_sgdisk_position("4096"), Some(Absolute(4096)));
        assert_eq!(parse_sgdisk_position("x"), None);
    }

    #[test]
    fn parted_positions() {
        let total = 2 << 21; // 2 GiB in sectors
        assert_eq!(parse_parted_position("0%", total), Some(0));
        assert_eq!(parse_parted_position("100%", total), Some(total));
        assert_eq!(parse_parted_position("50%", total), Some(total / 2));
        assert_eq!(parse_parted_position("1MiB", total), Some(2048));
        assert_eq!(parse_parted_position("1MB", total), Some(1953));
        assert_eq!(parse_parted_position("-1s", total), Some(total - 1));
        assert_eq!(parse_parted_position("512", total), Some(1_000_000));
        assert_eq!(parse_parted_position("1XB", total), None);
    }

    #[test]
    fn lvm_sizes() {
        assert_eq!(parse_lv_size("10G"), Some(LvSize::Bytes(10 << 30)));
        assert_eq!(parse_lv_size("100"), Some(LvSize::Bytes(100 << 20)));
        assert_eq!(
            parse_lv_size("100%FREE"),
            Some(LvSize::PercentOfFree(100.0))
        );
        assert_eq!(parse_lv_size("50%VG"), Some(LvSize::PercentOfGroup(50.0)));
        assert_eq!(parse_lv_size("150%FREE"), None);
        assert_eq!(parse_lv_size("lots"), None);
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(512 << 20), "512 MiB");
        assert_eq!(human_bytes(3 << 29), "1.5 GiB");
        assert_eq!(human_bytes(100), "100 B");
        assert_eq!(human_bytes((19 << 30) - (2 << 20)), "19 GiB");
    }
}
