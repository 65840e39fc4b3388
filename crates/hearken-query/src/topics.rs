//! Topic models, read-only: the stored versions, and how well one does on labelled examples.
//! (Training and classifying write to the store and stay with their callers.)
//!
//! Scope: a topic model is the organisation's, trained on a labelled file rather than on rows of
//! a segment or team; every scope sees the stored models' descriptions (not their bytes).

use hearken_store::{ModelInfo, Store};
use hearken_topics::{Eval, Model, evaluate};
use serde::Serialize;

use crate::error::{QueryError, Result};
use crate::scope::Scope;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct TopicModels {
    /// Every stored version, by name, newest version first.
    #[cfg_attr(feature = "utoipa", schema(value_type = Vec<Object>))]
    pub models: Vec<ModelInfo>,
}

/// The stored topic models.
pub fn models(store: &Store, _scope: &Scope) -> Result<TopicModels> {
    Ok(TopicModels {
        models: store.topic_models()?,
    })
}

/// The newest version of the named model, read.
pub fn load(store: &Store, _scope: &Scope, name: &str) -> Result<(ModelInfo, Model)> {
    let Some((info, bytes)) = store.load_model(name)? else {
        return Err(QueryError::NotFound {
            what: "topic model",
            id: name.to_string(),
            hint: "train one with `hearken topics train --data labelled.csv`".into(),
        });
    };
    let model = Model::from_bytes(&bytes)?;
    Ok((info, model))
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub model: ModelInfo,
    #[serde(flatten)]
    pub eval: Eval,
}

/// Accuracy, macro-F1, coverage and calibration of the named model on `(text, label)` examples.
pub fn evaluate_model(
    store: &Store,
    scope: &Scope,
    name: &str,
    examples: &[(&str, &str)],
) -> Result<Evaluation> {
    if examples.is_empty() {
        return Err(QueryError::NoData {
            message: "no labelled examples to evaluate on".into(),
            hint: "give texts with their topic (`text` and `category` columns)".into(),
        });
    }
    let (info, model) = load(store, scope, name)?;
    Ok(Evaluation {
        model: info,
        eval: evaluate(&model, examples),
    })
}
