//! Exact money arithmetic.
//!
//! Prices are held as integer **femto-dollars per token** ([`PerToken`]): a price of
//! $0.025 per million tokens is 25,000,000 fd/token, so every published price is an
//! integer and `tokens × price` is exact in `u128`. Step costs are rounded once, half
//! away from zero, to integer **nano-dollars** ([`Usd`]); totals are sums of those, so
//! a card's total always equals the sum of its steps, bit for bit, in any language.
//!
//! In cards a [`Usd`] is written as a plain decimal number (`0.000123456`). Any
//! nano-dollar amount below $9,007,199 is exactly recoverable from its shortest
//! `f64` form, which is what YAML and JSON readers see.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Sub};
use std::str::FromStr;

/// An amount of US dollars, exact to the nano-dollar (1e-9 USD). May be negative
/// only as a difference (for example a reconciliation delta).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Usd {
    nanos: i64,
}

/// Nano-dollars in one dollar.
const NANOS_PER_USD: i64 = 1_000_000_000;
/// Femto-dollars in one nano-dollar.
const FEMTOS_PER_NANO: u128 = 1_000_000;

impl Usd {
    /// Zero dollars.
    pub const ZERO: Usd = Usd { nanos: 0 };

    /// From integer nano-dollars.
    pub const fn from_nanos(nanos: i64) -> Self {
        Usd { nanos }
    }

    /// Integer nano-dollars.
    pub const fn nanos(self) -> i64 {
        self.nanos
    }

    /// Round femto-dollars (as produced by `tokens × price`) to nano-dollars,
    /// half away from zero.
    pub fn from_femtos(femtos: u128) -> Self {
        let nanos = (femtos + FEMTOS_PER_NANO / 2) / FEMTOS_PER_NANO;
        Usd {
            nanos: i64::try_from(nanos).unwrap_or(i64::MAX),
        }
    }

    /// From a reported `f64` dollar amount (as found in trace files), rounded to the
    /// nano-dollar. Returns `None` for NaN or infinite values.
    pub fn from_f64(dollars: f64) -> Option<Self> {
        if !dollars.is_finite() {
            return None;
        }
        // Go through the shortest decimal form so 0.1 is 100_000_000 nanos exactly.
        Usd::from_str(&format!("{dollars}")).ok().or_else(|| {
            let n = (dollars * NANOS_PER_USD as f64).round();
            (n.abs() < i64::MAX as f64).then_some(Usd { nanos: n as i64 })
        })
    }

    /// As `f64` dollars (the closest double to the exact value).
    pub fn to_f64(self) -> f64 {
        self.nanos as f64 / NANOS_PER_USD as f64
    }

    /// True when the amount is negative.
    pub fn is_negative(self) -> bool {
        self.nanos < 0
    }

    /// Absolute value.
    pub fn abs(self) -> Self {
        Usd {
            nanos: self.nanos.saturating_abs(),
        }
    }

    /// `self / other` as a fraction (for relative deltas); `None` when `other` is zero.
    pub fn ratio(self, other: Usd) -> Option<f64> {
        (other.nanos != 0).then(|| self.nanos as f64 / other.nanos as f64)
    }
}

impl fmt::Display for Usd {
    /// Plain decimal with up to nine fraction digits and no trailing zeros (`0.00123`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.nanos < 0 { "-" } else { "" };
        let abs = self.nanos.unsigned_abs();
        let whole = abs / NANOS_PER_USD as u64;
        let frac = abs % NANOS_PER_USD as u64;
        if frac == 0 {
            return write!(f, "{sign}{whole}");
        }
        let digits = format!("{frac:09}");
        write!(f, "{sign}{whole}.{}", digits.trim_end_matches('0'))
    }
}

/// Error for a string that is not a plain decimal dollar amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseUsdError(pub String);

impl fmt::Display for ParseUsdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a dollar amount: {:?}", self.0)
    }
}

impl std::error::Error for ParseUsdError {}

/// Parse a decimal (optionally in exponent form, as `f64` Display never writes but
/// JSON may contain) into a scaled integer with `scale` fraction digits, rounding
/// half away from zero. Shared by [`Usd`] and [`PerToken`].
fn parse_scaled(s: &str, scale: u32) -> Option<i128> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    // i64: `1e2147483647` must not overflow the shift below (it is simply too large)
    let exp = i64::from(exp);
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part
        .bytes()
        .chain(frac_part.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits: String = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    // value = digits × 10^(exp - frac_len); we want value × 10^scale
    let shift = exp - frac_part.len() as i64 + i64::from(scale);
    if digits.is_empty() {
        return Some(0);
    }
    if digits.len() > 36 {
        return None;
    }
    let mut n: i128 = digits.parse().ok()?;
    if shift >= 0 {
        if shift > 38 {
            return None;
        }
        for _ in 0..shift {
            n = n.checked_mul(10)?;
        }
    } else {
        let drop = shift.unsigned_abs();
        if drop > 38 {
            n = 0;
        } else {
            let div = 10i128.checked_pow(drop as u32)?;
            let q = n / div;
            let r = n % div;
            n = if r * 2 >= div { q + 1 } else { q };
        }
    }
    Some(if neg { -n } else { n })
}

impl FromStr for Usd {
    type Err = ParseUsdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_scaled(s, 9)
            .and_then(|n| i64::try_from(n).ok())
            .map(Usd::from_nanos)
            .ok_or_else(|| ParseUsdError(s.to_owned()))
    }
}

impl Add for Usd {
    type Output = Usd;
    fn add(self, rhs: Usd) -> Usd {
        Usd {
            nanos: self.nanos.saturating_add(rhs.nanos),
        }
    }
}

impl AddAssign for Usd {
    fn add_assign(&mut self, rhs: Usd) {
        *self = *self + rhs;
    }
}

impl Sub for Usd {
    type Output = Usd;
    fn sub(self, rhs: Usd) -> Usd {
        Usd {
            nanos: self.nanos.saturating_sub(rhs.nanos),
        }
    }
}

impl Sum for Usd {
    fn sum<I: Iterator<Item = Usd>>(iter: I) -> Usd {
        iter.fold(Usd::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Usd> for Usd {
    fn sum<I: Iterator<Item = &'a Usd>>(iter: I) -> Usd {
        iter.copied().sum()
    }
}

impl serde::Serialize for Usd {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.to_f64())
    }
}

impl<'de> serde::Deserialize<'de> for Usd {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Usd;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a dollar amount (number or decimal string)")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Usd, E> {
                Usd::from_f64(v).ok_or_else(|| E::custom("dollar amount is not finite"))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Usd, E> {
                v.checked_mul(NANOS_PER_USD)
                    .map(Usd::from_nanos)
                    .ok_or_else(|| E::custom("dollar amount too large"))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Usd, E> {
                i64::try_from(v)
                    .map_err(|_| E::custom("dollar amount too large"))
                    .and_then(|v| self.visit_i64(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Usd, E> {
                Usd::from_str(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl schemars::JsonSchema for Usd {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Usd".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "number",
            "description": "US dollars, exact to 1e-9 (nano-dollars)."
        })
    }
}

/// Highest price accepted from a price file, in dollars per million tokens
/// ($100,000/M, about 150 times the dearest published price). Together with
/// [`MAX_TOKENS`](crate::model::MAX_TOKENS) it keeps every step cost below the
/// largest [`Usd`] (about $9.2 billion); a higher price is a price-file error.
pub const MAX_PRICE_PER_MILLION_USD: u64 = 100_000;

/// [`MAX_PRICE_PER_MILLION_USD`] in femto-dollars per token.
const MAX_PRICE_FEMTOS: u64 = MAX_PRICE_PER_MILLION_USD * 1_000_000_000;

/// A price in integer femto-dollars (1e-15 USD) per token.
///
/// `$3 / 1M tokens` is `PerToken(3_000_000_000)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PerToken(pub u64);

impl PerToken {
    /// From a decimal string of dollars per **million** tokens (`"3.75"`).
    /// `None` when it is not a decimal, negative, or above
    /// [`MAX_PRICE_PER_MILLION_USD`].
    pub fn from_per_million_str(s: &str) -> Option<Self> {
        // $/M × 1e9 = fd/token
        parse_scaled(s, 9)
            .and_then(|n| u64::try_from(n).ok())
            .filter(|n| *n <= MAX_PRICE_FEMTOS)
            .map(PerToken)
    }

    /// From an `f64` of dollars per **token** (LiteLLM's unit), via its shortest
    /// decimal form so `3e-06` is exactly 3,000,000,000 fd.
    pub fn from_per_token_f64(v: f64) -> Option<Self> {
        if !v.is_finite() || v < 0.0 {
            return None;
        }
        parse_scaled(&format!("{v:e}"), 15)
            .and_then(|n| u64::try_from(n).ok())
            .filter(|n| *n <= MAX_PRICE_FEMTOS)
            .map(PerToken)
    }

    /// Exact cost of `tokens` at this price, in femto-dollars.
    pub fn cost_femtos(self, tokens: u64) -> u128 {
        u128::from(self.0) * u128::from(tokens)
    }

    /// Dollars per million tokens, as a decimal string (for display).
    pub fn per_million(self) -> String {
        // fd/token = nano-dollars per million tokens; u64 so no price shows negative
        let whole = self.0 / NANOS_PER_USD as u64;
        let frac = self.0 % NANOS_PER_USD as u64;
        if frac == 0 {
            return whole.to_string();
        }
        let digits = format!("{frac:09}");
        format!("{whole}.{}", digits.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        assert_eq!(Usd::from_str("0.42").unwrap().nanos(), 420_000_000);
        assert_eq!(Usd::from_str("1e-9").unwrap().nanos(), 1);
        assert_eq!(Usd::from_str("-0.5").unwrap().to_string(), "-0.5");
        assert_eq!(Usd::from_nanos(1_234_500).to_string(), "0.0012345");
        assert_eq!(Usd::from_f64(0.1).unwrap().nanos(), 100_000_000);
        assert!(Usd::from_str("abc").is_err());
        assert!(Usd::from_f64(f64::NAN).is_none());
    }

    #[test]
    fn per_token_units() {
        assert_eq!(
            PerToken::from_per_million_str("3").unwrap().0,
            3_000_000_000
        );
        assert_eq!(
            PerToken::from_per_million_str("0.025").unwrap().0,
            25_000_000
        );
        assert_eq!(
            PerToken::from_per_token_f64(3e-06).unwrap().0,
            3_000_000_000
        );
        assert_eq!(PerToken::from_per_token_f64(2.5e-08).unwrap().0, 25_000_000);
        assert_eq!(
            PerToken::from_per_token_f64(3.75e-06).unwrap().0,
            3_750_000_000
        );
        // 1234 tokens at $3/M = $0.003702
        let c = PerToken::from_per_million_str("3")
            .unwrap()
            .cost_femtos(1234);
        assert_eq!(Usd::from_femtos(c).to_string(), "0.003702");
    }

    #[test]
    fn extreme_exponents_are_errors_not_panics() {
        for s in [
            "1e2147483647",
            "1e-2147483648",
            "9e38",
            "1e39",
            "-1e2147483647",
        ] {
            let _ = Usd::from_str(s);
            let _ = PerToken::from_per_million_str(s);
        }
        assert!(Usd::from_str("1e2147483647").is_err());
        assert_eq!(Usd::from_str("1e-2147483648").unwrap(), Usd::ZERO);
        assert!(PerToken::from_per_million_str("10000000000").is_none());
        assert!(PerToken::from_per_million_str("100000").is_some());
        assert_eq!(PerToken(u64::MAX).per_million(), "18446744073.709551615");
    }

    #[test]
    fn rounding_half_away() {
        assert_eq!(Usd::from_femtos(499_999).nanos(), 0);
        assert_eq!(Usd::from_femtos(500_000).nanos(), 1);
    }
}
