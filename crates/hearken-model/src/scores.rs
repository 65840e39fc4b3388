//! Scores on their scales. A score outside its scale is rejected where it enters, so the engine
//! never has to ask whether an NPS of 11 is possible.

use crate::FieldError;

fn parse_number(field: &str, value: &str) -> Result<f64, FieldError> {
    let v = value.trim();
    // Survey tools in several locales write a decimal comma; a thousands separator never appears
    // in a score.
    let normalised;
    let v = if v.contains(',') && !v.contains('.') {
        normalised = v.replace(',', ".");
        normalised.as_str()
    } else {
        v
    };
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(FieldError::new(field, value, "is not a number")),
    }
}

fn parse_integer_on(
    field: &str,
    value: &str,
    lo: u8,
    hi: u8,
    scale: &str,
) -> Result<u8, FieldError> {
    let x = parse_number(field, value)?;
    if x.fract() != 0.0 {
        return Err(FieldError::new(
            field,
            value,
            format!("is not a whole number on the {scale} scale"),
        ));
    }
    if x < f64::from(lo) || x > f64::from(hi) {
        return Err(FieldError::new(
            field,
            value,
            format!("is outside the {scale} scale {lo}..{hi}"),
        ));
    }
    // In range lo..=hi (both u8), so the cast is exact.
    Ok(x as u8)
}

/// Likelihood to recommend, 0..=10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NpsScore(u8);

impl NpsScore {
    pub fn parse(field: &str, value: &str) -> Result<NpsScore, FieldError> {
        parse_integer_on(field, value, 0, 10, "NPS").map(NpsScore)
    }
    pub fn new(v: u8) -> Option<NpsScore> {
        (v <= 10).then_some(NpsScore(v))
    }
    pub fn get(self) -> u8 {
        self.0
    }
    pub fn is_promoter(self) -> bool {
        self.0 >= 9
    }
    pub fn is_detractor(self) -> bool {
        self.0 <= 6
    }
}

/// Customer satisfaction, 1..=5 (4 and 5 count as satisfied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CsatScore(u8);

impl CsatScore {
    pub fn parse(field: &str, value: &str) -> Result<CsatScore, FieldError> {
        parse_integer_on(field, value, 1, 5, "CSAT").map(CsatScore)
    }
    pub fn new(v: u8) -> Option<CsatScore> {
        (1..=5).contains(&v).then_some(CsatScore(v))
    }
    pub fn get(self) -> u8 {
        self.0
    }
    pub fn is_satisfied(self) -> bool {
        self.0 >= 4
    }
}

/// Customer effort, 1..=7 (7 = very easy, as in the CES 2.0 agreement scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CesScore(u8);

impl CesScore {
    pub fn parse(field: &str, value: &str) -> Result<CesScore, FieldError> {
        parse_integer_on(field, value, 1, 7, "CES").map(CesScore)
    }
    pub fn new(v: u8) -> Option<CesScore> {
        (1..=7).contains(&v).then_some(CesScore(v))
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

/// A satisfaction rating (overall or one aspect) on 0..=10. Fractions are allowed because some
/// tools export averages of sub-questions.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Rating(f64);

impl Rating {
    pub const MAX: f64 = 10.0;

    pub fn parse(field: &str, value: &str) -> Result<Rating, FieldError> {
        let x = parse_number(field, value)?;
        Rating::new(x).ok_or_else(|| {
            FieldError::new(field, value, "is outside the rating scale 0..10")
                .with_hint("ratings are stored on 0..10; rescale 1..5 answers in the survey export")
        })
    }
    pub fn new(v: f64) -> Option<Rating> {
        (v.is_finite() && (0.0..=Self::MAX).contains(&v)).then_some(Rating(v))
    }
    pub fn get(self) -> f64 {
        self.0
    }
}

/// An amount of money per year, non-negative, in the organisation's currency.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Money(f64);

impl Money {
    pub fn parse(field: &str, value: &str) -> Result<Money, FieldError> {
        let cleaned: String = value
            .trim()
            .chars()
            .filter(|c| !matches!(c, '$' | '€' | '£' | '_' | ' '))
            .collect();
        let x = parse_number(field, &cleaned).map_err(|e| FieldError {
            value: value.to_string(),
            ..e
        })?;
        Money::new(x).ok_or_else(|| FieldError::new(field, value, "is negative"))
    }
    pub fn new(v: f64) -> Option<Money> {
        (v.is_finite() && v >= 0.0).then_some(Money(v))
    }
    pub fn get(self) -> f64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_reject_out_of_range() {
        assert_eq!(NpsScore::parse("nps", "10").unwrap().get(), 10);
        assert_eq!(NpsScore::parse("nps", " 0 ").unwrap().get(), 0);
        assert!(
            NpsScore::parse("nps", "11")
                .unwrap_err()
                .reason
                .contains("0..10")
        );
        assert!(NpsScore::parse("nps", "-1").is_err());
        assert!(
            NpsScore::parse("nps", "7.5")
                .unwrap_err()
                .reason
                .contains("whole")
        );
        assert!(
            NpsScore::parse("nps", "seven")
                .unwrap_err()
                .reason
                .contains("not a number")
        );
        assert!(NpsScore::parse("nps", "NaN").is_err());
        assert!(CsatScore::parse("csat", "0").is_err());
        assert!(CsatScore::parse("csat", "5").unwrap().is_satisfied());
        assert!(CesScore::parse("ces", "8").is_err());
        assert_eq!(Rating::parse("overall", "7,5").unwrap().get(), 7.5);
        assert!(Rating::parse("overall", "10.5").is_err());
        assert_eq!(
            Money::parse("value_per_year", "€1200").unwrap().get(),
            1200.0
        );
        assert!(Money::parse("value_per_year", "-5").is_err());
    }

    #[test]
    fn nps_categories() {
        assert!(NpsScore::new(9).unwrap().is_promoter());
        assert!(!NpsScore::new(8).unwrap().is_promoter());
        assert!(!NpsScore::new(7).unwrap().is_detractor());
        assert!(NpsScore::new(6).unwrap().is_detractor());
        assert!(NpsScore::new(11).is_none());
    }
}
