//! What the organisation tells the flow analysis: its lifecycle stages, which activities are
//! escalations and which close a case, and how to group cases.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Configuration of [`crate::analyze`]. Loads from TOML/JSON; every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlowConfig {
    /// Activity -> lifecycle stage name. When not empty every figure is computed on stages
    /// instead of activities; an activity not listed stays a stage of its own name.
    pub lifecycle: BTreeMap<String, String>,
    /// Activity or stage names that are escalations (compared case-insensitively, see
    /// [`crate::rules::fold`]). `None`: the default rule recognises common names
    /// ([`crate::rules::is_default_escalation`]); a list, even an empty one, replaces it.
    pub escalation: Option<Vec<String>>,
    /// Activity or stage names that close a case: a case whose last event is one of these is
    /// closed, any other is open. `None`: the default rule
    /// ([`crate::rules::is_default_closing`]); a list replaces it. When nothing in the log is a
    /// closing activity, openness is unknown and not reported.
    pub closing: Option<Vec<String>>,
    /// Report the same figures per group of cases as well.
    pub group_by: Option<GroupBy>,
    /// How many case ids to list where the report names cases (open escalations).
    pub max_listed_cases: usize,
}

impl Default for FlowConfig {
    fn default() -> FlowConfig {
        FlowConfig {
            lifecycle: BTreeMap::new(),
            escalation: None,
            closing: None,
            group_by: None,
            max_listed_cases: 100,
        }
    }
}

/// The key cases are grouped by: one value per case (see [`crate::Dimension`] for how a case's
/// team, agent or attribute is chosen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// The calendar period (UTC) in which the case started.
    Period(Period),
    /// The team the case ended with: the team of its last event that names a team.
    Team,
    /// The case's first owner: the resource of its first event that has one.
    Agent,
    /// An attribute of the case (e.g. `product`, `segment`, `customer`, `channel`, or any XES
    /// trace attribute): its value at the case's first event that has one.
    Attribute(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    /// ISO week, e.g. `2024-W05`.
    Week,
    Month,
    Quarter,
    Year,
}

impl GroupBy {
    /// A short name for headings: `month`, `team`, `product`.
    pub fn label(&self) -> String {
        match self {
            GroupBy::Period(p) => match p {
                Period::Day => "day",
                Period::Week => "week",
                Period::Month => "month",
                Period::Quarter => "quarter",
                Period::Year => "year",
            }
            .to_string(),
            GroupBy::Team => "team".to_string(),
            GroupBy::Agent => "agent".to_string(),
            GroupBy::Attribute(a) => a.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_reads_from_json_with_defaults() {
        let c: FlowConfig = serde_json::from_str(
            r#"{"escalation": ["Escalate"], "group_by": {"period": "month"}}"#,
        )
        .unwrap();
        assert_eq!(c.group_by, Some(GroupBy::Period(Period::Month)));
        assert_eq!(c.escalation, Some(vec!["Escalate".to_string()]));
        assert_eq!(c.closing, None, "absent: the default rule");
        assert_eq!(c.max_listed_cases, 100);
        let t: FlowConfig = serde_json::from_str(r#"{"group_by": "team"}"#).unwrap();
        assert_eq!(t.group_by, Some(GroupBy::Team));
        assert!(serde_json::from_str::<FlowConfig>(r#"{"escalations": []}"#).is_err());
    }
}
