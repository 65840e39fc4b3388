//! Issue 13's stored records: risk models (versioned bytes, like the topic models) and the
//! customer-focus self-assessments of the organisation's units. The store keeps bytes and text;
//! what they mean is the engine's (`hearken_engine::risk::RiskModel`, `hearken_engine::assess`).

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

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

fn risk_info(r: &rusqlite::Row<'_>) -> rusqlite::Result<RiskModelInfo> {
    Ok(RiskModelInfo {
        version: r.get(0)?,
        created_at: r.get(1)?,
        horizon_days: r.get::<_, i64>(2)?.clamp(0, i64::from(u32::MAX)) as u32,
        trained_until: r.get(3)?,
        learner: r.get(4)?,
        examples: r.get::<_, i64>(5)?.max(0) as u64,
        churners: r.get::<_, i64>(6)?.max(0) as u64,
        held_out_auc: r.get(7)?,
    })
}

impl Store {
    /// Saves a new risk model version and returns its version number.
    pub fn save_risk_model(&self, m: &NewRiskModel<'_>) -> Result<i64, StoreError> {
        self.writable("save a risk model")?;
        let tx = self.conn.unchecked_transaction()?;
        let version: i64 = tx.query_row(
            "SELECT coalesce(max(version), 0) + 1 FROM risk_models",
            [],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO risk_models (version, created_at, horizon_days, trained_until, learner, examples, churners, held_out_auc, bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                version,
                now(),
                i64::from(m.horizon_days),
                m.trained_until,
                m.learner,
                m.examples.min(i64::MAX as u64) as i64,
                m.churners.min(i64::MAX as u64) as i64,
                m.held_out_auc,
                m.bytes
            ],
        )?;
        tx.commit()?;
        Ok(version)
    }

    /// The newest risk model, if any.
    pub fn load_risk_model(&self) -> Result<Option<(RiskModelInfo, Vec<u8>)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT version, created_at, horizon_days, trained_until, learner, examples, churners, held_out_auc, bytes
                     FROM risk_models ORDER BY version DESC LIMIT 1",
                [],
                |r| Ok((risk_info(r)?, r.get(8)?)),
            )
            .optional()?)
    }

    /// Every stored risk model version, newest first.
    pub fn risk_models(&self) -> Result<Vec<RiskModelInfo>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!("{RISK_INFO} ORDER BY version DESC"))?;
        let rows = stmt.query_map([], risk_info)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores a unit's assessment; one of the same unit and date is replaced. Returns whether
    /// one was replaced.
    pub fn save_assessment(
        &self,
        unit: &str,
        date: &str,
        questionnaire: &str,
        questionnaire_version: u32,
        answers: &str,
    ) -> Result<bool, StoreError> {
        self.writable("save an assessment")?;
        let tx = self.conn.unchecked_transaction()?;
        let replaced = tx.execute(
            "DELETE FROM assessments WHERE unit = ?1 AND date = ?2",
            params![unit, date],
        )? > 0;
        tx.execute(
            "INSERT INTO assessments (unit, date, questionnaire, questionnaire_version, answers, imported_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                unit,
                date,
                questionnaire,
                i64::from(questionnaire_version),
                answers,
                now()
            ],
        )?;
        tx.commit()?;
        Ok(replaced)
    }

    /// Every stored assessment, by date then unit.
    pub fn assessments(&self) -> Result<Vec<StoredAssessment>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT unit, date, questionnaire, questionnaire_version, answers, imported_at
             FROM assessments ORDER BY date, unit",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(StoredAssessment {
                unit: r.get(0)?,
                date: r.get(1)?,
                questionnaire: r.get(2)?,
                questionnaire_version: r.get::<_, i64>(3)?.clamp(0, i64::from(u32::MAX)) as u32,
                answers: r.get(4)?,
                imported_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
