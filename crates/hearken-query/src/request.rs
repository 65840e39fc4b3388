//! What every request shares: the row filters, the dimensions to group by, and the closed sets of
//! options, each with the stable lowercase name used on the command line, in URLs and in JSON.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Declares a request struct with the row filters every analytic takes (`from`, `to`,
/// `segment`, `product`, `channel`, `agent`, `team`) followed by its own fields, each with its
/// default. Requests deserialise from JSON or a URL query string; unknown fields are refused.
///
/// (The filters are written into each struct rather than flattened in: serde cannot refuse
/// unknown fields of a struct with a flattened part, and flattening loses the types of
/// query-string values.)
macro_rules! request {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty = $default:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
        #[cfg_attr(feature = "utoipa", derive(utoipa::IntoParams, utoipa::ToSchema))]
        #[cfg_attr(feature = "utoipa", into_params(parameter_in = Query))]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            /// Only rows at or after this date/time (ISO 8601).
            pub from: Option<String>,
            /// Only rows before this date/time (exclusive).
            pub to: Option<String>,
            /// Only customers of this segment.
            pub segment: Option<String>,
            /// Only this product (its id).
            pub product: Option<String>,
            /// Only this channel.
            pub channel: Option<String>,
            /// Only this agent (its id).
            pub agent: Option<String>,
            /// Only agents of this team.
            pub team: Option<String>,
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> $name {
                $name {
                    from: None,
                    to: None,
                    segment: None,
                    product: None,
                    channel: None,
                    agent: None,
                    team: None,
                    $( $field: $default, )*
                }
            }
        }

        impl $name {
            /// The row filters of this request.
            pub fn filters(&self) -> $crate::request::Filters {
                $crate::request::Filters {
                    from: self.from.clone(),
                    to: self.to.clone(),
                    segment: self.segment.clone(),
                    product: self.product.clone(),
                    channel: self.channel.clone(),
                    agent: self.agent.clone(),
                    team: self.team.clone(),
                }
            }

            /// Sets the row filters of this request.
            pub fn with_filters(mut self, f: $crate::request::Filters) -> $name {
                self.from = f.from;
                self.to = f.to;
                self.segment = f.segment;
                self.product = f.product;
                self.channel = f.channel;
                self.agent = f.agent;
                self.team = f.team;
                self
            }
        }
    };
}
pub(crate) use request;

/// Which rows: a time window and the entity filters. Names are external ids (products, agents)
/// or attribute values (segment, team); unknown ones are refused with the list of known ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Filters {
    pub from: Option<String>,
    pub to: Option<String>,
    pub segment: Option<String>,
    pub product: Option<String>,
    pub channel: Option<String>,
    pub agent: Option<String>,
    pub team: Option<String>,
}

impl Filters {
    /// Whether any filter other than the time window is set.
    pub fn narrows_rows(&self) -> bool {
        self.segment.is_some()
            || self.product.is_some()
            || self.channel.is_some()
            || self.agent.is_some()
            || self.team.is_some()
    }
}

/// Declares a closed set of lowercase names with `as_str`, `FromStr`, `Display` and `ALL`.
macro_rules! names {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
        // utoipa cannot read the variants' `serde(rename = $text)` through the macro; every name
        // is the variant's in kebab-case (the server's tests check the schema against `ALL`).
        #[cfg_attr(feature = "utoipa", schema(rename_all = "kebab-case"))]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<$name, String> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| {
                        let all: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                        format!("'{s}' is not one of: {}", all.join(", "))
                    })
            }
        }
    };
}

names! {
    /// A dimension to group rows by.
    pub enum By {
        Customer = "customer",
        Segment = "segment",
        Persona = "persona",
        Product = "product",
        Channel = "channel",
        Agent = "agent",
        Team = "team",
        /// The source's topic, else the classifier's (signals only).
        Topic = "topic",
        Day = "day",
        Week = "week",
        Month = "month",
        /// New (first 90 days) vs long-standing customers.
        Tenure = "tenure",
        /// Customer tenure at the time of the row: <90d, 90-365d, 365-730d, 730d+.
        TenureBand = "tenure-band",
        /// Signup cohort: the month the customer became a customer.
        Cohort = "cohort",
        /// Lifecycle stage of the signal (signals only).
        Stage = "stage",
        /// Kind of signal: complaint, question, ... (signals only).
        Kind = "kind",
    }
}

impl By {
    /// Dimensions that name an entity or a category of them (not a period or a tenure), the
    /// groupings whose contacts can be concentrated in a few.
    pub const ENTITIES: &'static [By] = &[
        By::Customer,
        By::Segment,
        By::Persona,
        By::Product,
        By::Channel,
        By::Agent,
        By::Team,
        By::Topic,
        By::Stage,
        By::Kind,
    ];

    /// Dimensions only signals have.
    pub fn signals_only(self) -> bool {
        matches!(self, By::Topic | By::Stage | By::Kind)
    }
}

names! {
    /// A satisfaction score.
    pub enum Metric {
        /// Net Promoter Score: % promoters (9-10) minus % detractors (0-6).
        Nps = "nps",
        /// % of 4-5 on 1-5.
        Csat = "csat",
        /// Mean customer effort on 1-7.
        Ces = "ces",
        /// Net sentiment of signals: % positive minus % negative.
        Sentiment = "sentiment",
    }
}

impl Metric {
    /// The name of the figure in responses and table headers.
    pub fn figure(self) -> &'static str {
        match self {
            Metric::Nps => "nps",
            Metric::Csat => "csat",
            Metric::Ces => "ces",
            Metric::Sentiment => "net_sentiment",
        }
    }

    /// The label people read.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Nps => "NPS",
            Metric::Csat => "CSAT",
            Metric::Ces => "CES",
            Metric::Sentiment => "net sentiment",
        }
    }
}

names! {
    /// A calendar period.
    pub enum Period {
        Day = "day",
        Week = "week",
        Month = "month",
    }
}

impl Period {
    pub(crate) fn engine(self) -> hearken_engine::Period {
        match self {
            Period::Day => hearken_engine::Period::Day,
            Period::Week => hearken_engine::Period::Week,
            Period::Month => hearken_engine::Period::Month,
        }
    }
}

names! {
    /// What the survey aspects should explain.
    pub enum DriverTarget {
        /// Overall satisfaction (0-10).
        Overall = "overall",
        /// Likelihood to recommend (0-10).
        Nps = "nps",
    }
}

impl DriverTarget {
    /// The label people read.
    pub fn label(self) -> &'static str {
        match self {
            DriverTarget::Overall => "overall satisfaction",
            DriverTarget::Nps => "likelihood to recommend",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_json() {
        for b in By::ALL {
            assert_eq!(b.as_str().parse::<By>(), Ok(*b));
            let json = format!("\"{}\"", b.as_str());
            assert_eq!(serde_json::from_str::<By>(&json).unwrap(), *b);
            assert_eq!(serde_json::to_string(b).unwrap(), json);
        }
        let e = "Month".parse::<By>().unwrap_err();
        assert!(e.contains("month") && e.contains("tenure-band"), "{e}");
    }
}
