//! The four VADER scores of one text and their output at Python's rounding.
//!
//! Python VADER returns `round(neg, 3)`, `round(neu, 3)`, `round(pos, 3)`, `round(compound, 4)`.
//! Python's `round(x, n)` rounds the exact binary value of `x` to `n` decimals, ties to even, and
//! returns the double nearest to that decimal; its `repr` is then the shortest string that reads
//! back as that double. [`py_round`] and [`Sentiment::write_json`] replicate both exactly, so the
//! JSON line is byte-identical to `json.dumps(scores, separators=(",", ":"))` in Python.

use std::fmt;

/// Decimal places Python VADER keeps for neg, neu and pos.
const RATIO_DIGITS: u32 = 3;
/// Decimal places Python VADER keeps for compound.
const COMPOUND_DIGITS: u32 = 4;

/// VADER's scores for one text, unrounded.
///
/// `neg`, `neu` and `pos` are the proportions of the text's sentiment mass that is negative,
/// neutral and positive (each in 0..=1, summing to about 1, or all 0 for a text with no words);
/// `compound` is the normalised sum of valences in -1..=1.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sentiment {
    pub neg: f64,
    pub neu: f64,
    pub pos: f64,
    pub compound: f64,
}

impl Sentiment {
    /// The scores as Python VADER returns them: neg, neu, pos to 3 decimals, compound to 4.
    pub fn rounded(&self) -> Sentiment {
        Sentiment {
            neg: py_round(self.neg, RATIO_DIGITS),
            neu: py_round(self.neu, RATIO_DIGITS),
            pos: py_round(self.pos, RATIO_DIGITS),
            compound: py_round(self.compound, COMPOUND_DIGITS),
        }
    }

    /// Writes `{"neg":0.0,"neu":0.508,"pos":0.492,"compound":0.4404}` at Python's rounding and
    /// float formatting (the line `hearken sentiment --json` prints), without a newline.
    pub fn write_json<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        out.write_str("{\"neg\":")?;
        write_py_decimal(out, Decimal::round(self.neg, RATIO_DIGITS))?;
        out.write_str(",\"neu\":")?;
        write_py_decimal(out, Decimal::round(self.neu, RATIO_DIGITS))?;
        out.write_str(",\"pos\":")?;
        write_py_decimal(out, Decimal::round(self.pos, RATIO_DIGITS))?;
        out.write_str(",\"compound\":")?;
        write_py_decimal(out, Decimal::round(self.compound, COMPOUND_DIGITS))?;
        out.write_str("}")
    }

    /// [`Sentiment::write_json`] into a new string.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(64);
        // Writing into a String cannot fail.
        let _ = self.write_json(&mut out);
        out
    }
}

/// `x` rounded to `digits` decimals exactly as Python's `round(x, digits)` does.
pub fn py_round(x: f64, digits: u32) -> f64 {
    Decimal::round(x, digits).to_f64()
}

/// A rounded value as sign, integer mantissa and decimal places: `-1^negative * units / 10^digits`.
/// `Exact` carries a value that needs no rounding (NaN, infinities, or too large to have decimals).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Decimal {
    Units {
        negative: bool,
        units: u64,
        digits: u32,
    },
    Exact(f64),
}

impl Decimal {
    /// Rounds the exact binary value of `x` to `digits` decimals (`digits` <= 9), ties to even.
    fn round(x: f64, digits: u32) -> Decimal {
        let digits = digits.min(9);
        // At or above 2^52 every double is an integer, so rounding to decimals leaves it as is.
        if !x.is_finite() || x.abs() >= 4_503_599_627_370_496.0 {
            return Decimal::Exact(x);
        }
        let negative = x.is_sign_negative();
        let bits = x.abs().to_bits();
        let biased_exp = (bits >> 52) as i32;
        let fraction = bits & ((1u64 << 52) - 1);
        // x = mantissa * 2^exp exactly.
        let (mantissa, exp) = if biased_exp == 0 {
            (fraction, -1074)
        } else {
            (fraction | (1u64 << 52), biased_exp - 1075)
        };
        let scaled = u128::from(mantissa) * u128::from(10u64.pow(digits));
        let units = if exp >= 0 {
            scaled << exp
        } else {
            let shift = exp.unsigned_abs();
            if shift >= 127 {
                // scaled < 2^83, so the value is below half a unit: it rounds to zero.
                0
            } else {
                let floor = scaled >> shift;
                let rest = scaled & ((1u128 << shift) - 1);
                let half = 1u128 << (shift - 1);
                if rest > half || (rest == half && floor & 1 == 1) {
                    floor + 1
                } else {
                    floor
                }
            }
        };
        // |x| < 2^52 and digits <= 9 keep units below 2^52 * 10^9 < 2^82; the value fits u64
        // whenever it matters (|x| <= 1 for VADER), and saturates otherwise.
        let units = u64::try_from(units).unwrap_or(u64::MAX);
        Decimal::Units {
            negative,
            units,
            digits,
        }
    }

    /// The double nearest to the decimal, like Python's `strtod` of the rounded digits.
    fn to_f64(self) -> f64 {
        match self {
            Decimal::Exact(x) => x,
            Decimal::Units {
                negative,
                units,
                digits,
            } => {
                // Both operands are exact doubles (units < 2^53 in range), and IEEE division is
                // correctly rounded, so this is the nearest double to units / 10^digits.
                let magnitude = units as f64 / 10f64.powi(digits as i32);
                if negative { -magnitude } else { magnitude }
            }
        }
    }
}

/// Writes a rounded value the way Python's `repr(float)` writes it: `0.0`, `1.0`, `0.5`,
/// `-0.0`, `0.0001`. For a value with at most 9 decimals and fewer than 16 integer digits the
/// shortest round-tripping form is the decimal itself with trailing zeros dropped.
fn write_py_decimal<W: fmt::Write>(out: &mut W, value: Decimal) -> fmt::Result {
    match value {
        Decimal::Exact(x) => write_py_repr_fallback(out, x),
        Decimal::Units {
            negative,
            units,
            digits,
        } => {
            if units >= 1_000_000_000_000_000 {
                return write_py_repr_fallback(out, value.to_f64());
            }
            let scale = 10u64.pow(digits);
            let (whole, mut frac) = (units / scale, units % scale);
            if negative {
                out.write_char('-')?;
            }
            write!(out, "{whole}.")?;
            if frac == 0 {
                return out.write_char('0');
            }
            let mut width = digits as usize;
            while frac % 10 == 0 {
                frac /= 10;
                width -= 1;
            }
            write!(out, "{frac:0width$}")
        }
    }
}

/// Python's repr for values outside VADER's range (never produced by the scorer): Rust's shortest
/// round-trip digits, with Python's `.0` on integral values and `inf`/`nan` spelt as JSON can't.
fn write_py_repr_fallback<W: fmt::Write>(out: &mut W, x: f64) -> fmt::Result {
    if x.is_nan() {
        out.write_str("NaN")
    } else if x.is_infinite() {
        out.write_str(if x > 0.0 { "Infinity" } else { "-Infinity" })
    } else if x == x.trunc() && x.abs() < 1e16 {
        write!(out, "{x:.1}")
    } else {
        write!(out, "{x:e}")
    }
}

impl fmt::Display for Sentiment {
    /// The JSON line at Python's rounding.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_json(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn repr(x: f64, digits: u32) -> String {
        let mut s = String::new();
        write_py_decimal(&mut s, Decimal::round(x, digits)).unwrap();
        s
    }

    // Values checked against CPython live in tests/data/py_round_reference.tsv (see
    // tools/reference/vader/make_reference.py); these tests check the properties that tie the
    // rounded double and its text together.
    proptest! {
        #[test]
        fn text_reads_back_as_the_rounded_double(x in -1.0f64..=1.0, digits in 0u32..=6) {
            let text = repr(x, digits);
            let rounded = py_round(x, digits);
            prop_assert_eq!(text.parse::<f64>().unwrap().to_bits(), rounded.to_bits());
            prop_assert!((rounded - x).abs() <= 0.5 * 10f64.powi(-(digits as i32)) + 1e-15);
        }

        #[test]
        fn rounding_is_idempotent(x in -1.0f64..=1.0) {
            prop_assert_eq!(py_round(py_round(x, 3), 3).to_bits(), py_round(x, 3).to_bits());
        }
    }

    #[test]
    fn json_line_has_python_key_order_and_float_style() {
        let s = Sentiment {
            neg: 0.0,
            neu: 1.0,
            pos: 0.25,
            compound: -0.0,
        };
        assert_eq!(
            s.to_json(),
            r#"{"neg":0.0,"neu":1.0,"pos":0.25,"compound":-0.0}"#
        );
        assert_eq!(s.to_string(), s.to_json());
    }
}
