//! Issue 13's stored records: risk models (versioned bytes, like the topic models) and the
//! customer-focus self-assessments of the organisation's units. The store keeps bytes and text;
//! what they mean is the engine's (`hearken_engine::risk::RiskModel`, `hearken_engine::assess`).

use serde::Serialize;

use crate::sql::{Db, Lite, Row, Value, vals};
use crate::{Store, StoreError};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// What the store says of a risk model version (its bytes apart).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskModelInfo {
    pub version: i64,
    pub created_at: i64,
    pub horizon_days: u32,
    /// Churn dates before this date (UTC seconds) were the labels it learned from.
    pub trained_until: i64,
    /// `boosted` or `logistic`.
    pub learner: String,
    pub examples: u64,
    pub churners: u64,
    /// ROC AUC on the held-out as-of date, when there was one.
    pub held_out_auc: Option<f64>,
}

/// A risk model to save.
#[derive(Debug, Clone, Copy)]
pub struct NewRiskModel<'a> {
    pub horizon_days: u32,
    pub trained_until: i64,
    pub learner: &'a str,
    pub examples: u64,
    pub churners: u64,
    pub held_out_auc: Option<f64>,
    pub bytes: &'a [u8],
}

/// One stored self-assessment: the unit's answers as the TOML text it was imported from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredAssessment {
    pub unit: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The questionnaire's name and version the answers are to.
    pub questionnaire: String,
    pub questionnaire_version: u32,
    pub answers: String,
    pub imported_at: i64,
}

const RISK_INFO: &str = "SELECT version, created_at, horizon_days, trained_until, learner, examples, churners, held_out_auc FROM risk_models";

fn risk_info(r: &Row) -> Result<RiskModelInfo, StoreError> {
    Ok(RiskModelInfo {
        version: r.get(0)?,
        created_at: r.get(1)?,
        horizon_days: r.get::<i64>(2)?.clamp(0, i64::from(u32::MAX)) as u32,
        trained_until: r.get(3)?,
        learner: r.get(4)?,
        examples: r.get::<i64>(5)?.max(0) as u64,
        churners: r.get::<i64>(6)?.max(0) as u64,
        held_out_auc: r.get(7)?,
    })
}

/// Risk models and self-assessments on either store: the same statements (`crate::sql`), a
/// save in one transaction (on PostgreSQL under the risk lock, so two saves get two versions).
pub trait RiskStore: crate::FrameSource {
    /// Saves a new risk model version (the previous stay, for comparison); returns its version.
    fn save_risk_model(&self, m: &NewRiskModel<'_>) -> Result<i64, StoreError>;
    /// The newest risk model and its bytes.
    fn load_risk_model(&self) -> Result<Option<(RiskModelInfo, Vec<u8>)>, StoreError>;
    /// Every stored risk model version, newest first.
    fn risk_models(&self) -> Result<Vec<RiskModelInfo>, StoreError>;
    /// Stores a unit's self-assessment of one date (replacing the same unit and date); returns
    /// whether one was replaced.
    fn save_assessment(
        &self,
        unit: &str,
        date: &str,
        questionnaire: &str,
        questionnaire_version: u32,
        answers: &str,
    ) -> Result<bool, StoreError>;
    /// Every stored assessment, by date then unit.
    fn assessments(&self) -> Result<Vec<StoredAssessment>, StoreError>;
}

/// The statements of [`RiskStore`], written once against [`Db`].
pub(crate) mod ops {
    use super::*;

    pub(crate) fn save_risk_model(
        db: &mut dyn Db,
        m: &NewRiskModel<'_>,
    ) -> Result<i64, StoreError> {
        let version: i64 = db
            .first("SELECT coalesce(max(version), 0) + 1 FROM risk_models", &[])?
            .ok_or_else(|| StoreError::Snapshot("a count returned no row".into()))?
            .get(0)?;
        db.execute(
            "INSERT INTO risk_models (version, created_at, horizon_days, trained_until, learner, examples, churners, held_out_auc, bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            &[
                version.into(),
                now().into(),
                i64::from(m.horizon_days).into(),
                m.trained_until.into(),
                m.learner.into(),
                (m.examples.min(i64::MAX as u64) as i64).into(),
                (m.churners.min(i64::MAX as u64) as i64).into(),
                m.held_out_auc.map_or(Value::Null, Value::Real),
                Value::Blob(m.bytes.to_vec()),
            ],
        )?;
        Ok(version)
    }

    pub(crate) fn load_risk_model(
        db: &mut dyn Db,
    ) -> Result<Option<(RiskModelInfo, Vec<u8>)>, StoreError> {
        db.first(
            "SELECT version, created_at, horizon_days, trained_until, learner, examples, churners, held_out_auc, bytes
                 FROM risk_models ORDER BY version DESC LIMIT 1",
            &[],
        )?
        .map(|r| Ok((risk_info(&r)?, r.get(8)?)))
        .transpose()
    }

    pub(crate) fn risk_models(db: &mut dyn Db) -> Result<Vec<RiskModelInfo>, StoreError> {
        db.query(&format!("{RISK_INFO} ORDER BY version DESC"), &[])?
            .iter()
            .map(risk_info)
            .collect()
    }

    pub(crate) fn save_assessment(
        db: &mut dyn Db,
        unit: &str,
        date: &str,
        questionnaire: &str,
        questionnaire_version: u32,
        answers: &str,
    ) -> Result<bool, StoreError> {
        let replaced = db.execute(
            "DELETE FROM assessments WHERE unit = ?1 AND date = ?2",
            vals![unit, date],
        )? > 0;
        db.execute(
            "INSERT INTO assessments (unit, date, questionnaire, questionnaire_version, answers, imported_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            vals![
                unit,
                date,
                questionnaire,
                i64::from(questionnaire_version),
                answers,
                now()
            ],
        )?;
        Ok(replaced)
    }

    pub(crate) fn assessments(db: &mut dyn Db) -> Result<Vec<StoredAssessment>, StoreError> {
        let order = db.bytewise();
        db.query(
            &format!(
                "SELECT unit, date, questionnaire, questionnaire_version, answers, imported_at
                 FROM assessments ORDER BY date{order}, unit{order}"
            ),
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(StoredAssessment {
                unit: r.get(0)?,
                date: r.get(1)?,
                questionnaire: r.get(2)?,
                questionnaire_version: r.get::<i64>(3)?.clamp(0, i64::from(u32::MAX)) as u32,
                answers: r.get(4)?,
                imported_at: r.get(5)?,
            })
        })
        .collect()
    }
}

impl Store {
    /// Runs `f` in one (deferred) transaction on the file.
    fn risk_write<T>(
        &self,
        what: &str,
        f: impl FnOnce(&mut dyn Db) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.writable(what)?;
        let tx = self.conn.unchecked_transaction()?;
        let out = f(&mut Lite(&tx))?;
        tx.commit()?;
        Ok(out)
    }

    fn risk_read<T>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        f(&mut Lite(&self.conn))
    }
}

/// The [`RiskStore`] of a store with `risk_read` and `risk_write`.
macro_rules! risk_store {
    ($store:ty) => {
        impl $crate::risk::RiskStore for $store {
            fn save_risk_model(
                &self,
                m: &$crate::risk::NewRiskModel<'_>,
            ) -> Result<i64, $crate::StoreError> {
                self.risk_write("save a risk model", |db| {
                    $crate::risk::ops::save_risk_model(db, m)
                })
            }
            fn load_risk_model(
                &self,
            ) -> Result<Option<($crate::risk::RiskModelInfo, Vec<u8>)>, $crate::StoreError> {
                self.risk_read(|db| $crate::risk::ops::load_risk_model(db))
            }
            fn risk_models(&self) -> Result<Vec<$crate::risk::RiskModelInfo>, $crate::StoreError> {
                self.risk_read(|db| $crate::risk::ops::risk_models(db))
            }
            fn save_assessment(
                &self,
                unit: &str,
                date: &str,
                questionnaire: &str,
                questionnaire_version: u32,
                answers: &str,
            ) -> Result<bool, $crate::StoreError> {
                self.risk_write("save an assessment", |db| {
                    $crate::risk::ops::save_assessment(
                        db,
                        unit,
                        date,
                        questionnaire,
                        questionnaire_version,
                        answers,
                    )
                })
            }
            fn assessments(
                &self,
            ) -> Result<Vec<$crate::risk::StoredAssessment>, $crate::StoreError> {
                self.risk_read(|db| $crate::risk::ops::assessments(db))
            }
        }
    };
}
#[cfg_attr(not(feature = "postgres"), allow(unused_imports))]
pub(crate) use risk_store;

risk_store!(Store);
