//! One `Config`, from defaults, an optional `hearken.toml`, `HEARKEN_*` environment variables and
//! command-line flags (later wins), validated once at start.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The store file.
    pub db: PathBuf,
    /// Rows per import transaction.
    pub batch_size: usize,
    /// Score sentiment and detect the language of every text at import.
    pub enrich: bool,
    /// Replace e-mail addresses, phone numbers, payment cards and IBANs before storing text.
    pub redact_pii: bool,
    /// Currency symbol shown before amounts (e.g. "€"); none by default.
    pub currency: Option<String>,
    /// `hearken serve`: the `[server]` section.
    pub server: hearken_server::Settings,
    /// `hearken cost`: the cost-of-quality mapping (`[cost]`, see README "Cost of quality").
    pub cost: Option<hearken_engine::cost::CostConfig>,
    /// `hearken assess`: the questionnaire file and the organisation's units (`[assess]`).
    pub assess: AssessConfig,
    /// The outbox's channels (`hearken outbox run`, `hearken serve`): the `[outbox]` section.
    pub outbox: hearken_outbox::Settings,
    /// The weekly report's scheduled delivery (`[report]`, `[report.schedule]`,
    /// `[[report.recipients]]`; docs/report.md "Scheduled delivery").
    pub report: hearken_web::delivery::ReportSettings,
    /// Where the analytics that can run elsewhere compute (`scores`): `spark://HOST:PORT` for a
    /// Spark Connect server (the `spark` build feature, ADR 0014); none: the embedded engine.
    /// `--engine` and HEARKEN_ENGINE win.
    pub engine: Option<String>,
    /// The Parquet lake the Spark engine reads (`hearken export ... --partition month` into
    /// `LAKE/signals`, `LAKE/surveys`); `--lake` and HEARKEN_LAKE win.
    pub lake: Option<PathBuf>,
}

/// The `[assess]` section: a questionnaire replacing Hearken's default, and the units that may
/// answer it (empty: any unit).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AssessConfig {
    pub questionnaire: Option<PathBuf>,
    pub units: Vec<String>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            db: PathBuf::from("hearken.db"),
            batch_size: hearken_store::DEFAULT_BATCH,
            enrich: true,
            redact_pii: false,
            currency: None,
            server: hearken_server::Settings::default(),
            cost: None,
            assess: AssessConfig::default(),
            outbox: hearken_outbox::Settings::default(),
            report: hearken_web::delivery::ReportSettings::default(),
            engine: None,
            lake: None,
        }
    }
}

/// The top-level keys of `text` that belong to a flow configuration (`hearken flow
/// --flow-config`) and not to hearken.toml.
fn flow_config_keys(text: &str) -> Vec<String> {
    const FLOW: &[&str] = &[
        "lifecycle",
        "escalation",
        "closing",
        "group_by",
        "max_listed_cases",
    ];
    match toml::from_str::<toml::Table>(text) {
        Ok(table) => table
            .keys()
            .filter(|k| FLOW.contains(&k.as_str()))
            .cloned()
            .collect(),
        Err(_) => Vec::new(),
    }
}

impl Config {
    /// Loads `path` if given (it must exist), else `./hearken.toml` if present, then applies the
    /// environment and the `--db` flag.
    pub fn load(path: Option<&Path>, db_flag: Option<&Path>) -> Result<Config> {
        let mut cfg = match path {
            Some(p) => Config::from_file(p)?,
            None if Path::new("hearken.toml").exists() => {
                Config::from_file(Path::new("hearken.toml"))?
            }
            None => Config::default(),
        };
        if let Ok(db) = std::env::var("HEARKEN_DB")
            && !db.is_empty()
        {
            cfg.db = PathBuf::from(db);
        }
        if let Ok(b) = std::env::var("HEARKEN_BATCH_SIZE") {
            cfg.batch_size = b
                .parse()
                .with_context(|| format!("HEARKEN_BATCH_SIZE='{b}' is not a whole number"))?;
        }
        if let Ok(v) = std::env::var("HEARKEN_REDACT_PII") {
            cfg.redact_pii = hearken_model::parse_bool("HEARKEN_REDACT_PII", &v)?;
        }
        if let Ok(c) = std::env::var("HEARKEN_CURRENCY") {
            cfg.currency = Some(c).filter(|c| !c.is_empty());
        }
        if let Some(db) = db_flag {
            cfg.db = db.to_path_buf();
        }
        cfg.validate()?;
        Ok(cfg)
    }

    fn from_file(p: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("cannot read config {}", p.display()))?;
        toml::from_str(&text).or_else(|e| {
            // `hearken flow --config flow.toml` reads the file as hearken.toml (--config is
            // global): say what was meant.
            let flow_keys = flow_config_keys(&text);
            if !flow_keys.is_empty() {
                bail!(
                    "{} is not a hearken.toml: it holds {} of a flow configuration; for a flow configuration use `hearken flow --flow-config FILE`",
                    p.display(),
                    flow_keys.join(", ")
                );
            }
            Err(e).with_context(|| format!("config {} is invalid", p.display()))
        })
    }

    fn validate(&self) -> Result<()> {
        if self.batch_size == 0 || self.batch_size > 1_000_000 {
            bail!(
                "batch_size {} is out of range: use 1..=1000000",
                self.batch_size
            );
        }
        if self.db.as_os_str().is_empty() {
            bail!("the store path is empty: pass --db PATH or set HEARKEN_DB");
        }
        self.server.validate()?;
        self.outbox.validate()?;
        self.report_plan()?;
        Ok(())
    }

    /// The validated `[report]` section (recipients' e-mail needs `[outbox.smtp]`, their
    /// webhooks `[outbox] webhook_secret`).
    pub fn report_plan(&self) -> Result<hearken_web::delivery::Plan> {
        Ok(self.report.validate(hearken_web::delivery::Channels {
            email: self.outbox.smtp.is_some(),
            webhook_secret: self.outbox.webhook_secret.is_some(),
        })?)
    }
}
