//! The JSON form of a [`Model`], with a format name and version.

use serde::{Deserialize, Serialize};

use super::{MODEL_FORMAT_VERSION, Model, PriorMode, trainable_codes};
use crate::block::BlockingRule;
use crate::compare::{Field, Level};
use crate::error::{ErrorKind, Result};

const FORMAT: &str = "idstitch-model";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    format: String,
    version: u32,
    mode: PriorMode,
    priors: Vec<RulePrior>,
    global_prior: f64,
    tf_fields: Vec<Field>,
    tf_min: f64,
    fields: Vec<FieldParams>,
    /// Learnt not-exact distributions per rule and field (version 2).
    #[serde(default)]
    not_exact: Vec<NotExactParams>,
    /// Frozen term frequencies ([`Model::with_frequencies_of`]); absent when
    /// none are frozen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    frequencies: Option<Vec<FrequencyParams>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrequencyParams {
    field: Field,
    /// `(key, records)`, sorted by key (totals are derived from them).
    counts: Vec<(String, u32)>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotExactParams {
    rule: BlockingRule,
    field: Field,
    /// `P(level | match, not exact)` per level name, `missing` included.
    levels: Vec<(String, f64)>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulePrior {
    rule: BlockingRule,
    probability: f64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldParams {
    field: Field,
    /// Share of record pairs holding the field on both sides (version 2).
    #[serde(default = "one")]
    presence: f64,
    levels: Vec<LevelParams>,
}

fn one() -> f64 {
    1.0
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LevelParams {
    level: String,
    m: f64,
    u: f64,
}

fn bad(reason: impl Into<String>) -> crate::Error {
    ErrorKind::ModelFormat {
        reason: reason.into(),
    }
    .into()
}

fn check_probability(what: &str, p: f64) -> Result<f64> {
    if p.is_finite() && p > 0.0 && p <= 1.0 {
        Ok(p)
    } else {
        Err(bad(format!("{what} must be a probability in (0, 1]")))
    }
}

impl Model {
    /// The model as pretty-printed JSON (format `idstitch-model`, version
    /// [`MODEL_FORMAT_VERSION`]). Holds parameters only, no personal data.
    pub fn to_json(&self) -> String {
        let fields = Field::ALL
            .iter()
            .map(|&f| FieldParams {
                field: f,
                presence: self.presence[f as usize],
                levels: trainable_codes(f)
                    .map(|c| LevelParams {
                        level: Level::from_code(f, c as u8).as_str().to_owned(),
                        m: self.m[f as usize][c],
                        u: self.u[f as usize][c],
                    })
                    .collect(),
            })
            .collect();
        let file = ModelFile {
            format: FORMAT.to_owned(),
            version: MODEL_FORMAT_VERSION,
            mode: self.mode,
            priors: self
                .priors
                .iter()
                .map(|&(rule, probability)| RulePrior { rule, probability })
                .collect(),
            global_prior: self.global_prior,
            tf_fields: self.tf_fields.clone(),
            tf_min: self.tf_min,
            fields,
            not_exact: self
                .not_exact_m
                .iter()
                .map(|(rule, f, m)| NotExactParams {
                    rule: *rule,
                    field: *f,
                    levels: std::iter::once(0)
                        .chain(trainable_codes(*f).filter(|&c| c != 1))
                        .map(|c| (Level::from_code(*f, c as u8).as_str().to_owned(), m[c]))
                        .collect(),
                })
                .collect(),
            frequencies: self.frequencies.as_ref().map(|all| {
                all.iter()
                    .map(|ff| {
                        let mut counts: Vec<(String, u32)> =
                            ff.counts.iter().map(|(k, &c)| (k.to_string(), c)).collect();
                        counts.sort_unstable();
                        FrequencyParams {
                            field: ff.field,
                            counts,
                        }
                    })
                    .collect()
            }),
        };
        // Serialising plain structs of numbers, strings and enums cannot fail.
        serde_json::to_string_pretty(&file).unwrap_or_default()
    }

    /// Reads a model written by [`Model::to_json`].
    ///
    /// # Errors
    /// [`ErrorKind::ModelFormat`] for malformed JSON, another format or
    /// version, an unknown level, or a probability out of range.
    ///
    /// # Example
    /// ```
    /// use idstitch::{ErrorKind, Model};
    ///
    /// let err = Model::from_json(r#"{"format":"idstitch-model","version":99}"#).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::ModelFormat { .. }));
    /// ```
    pub fn from_json(json: &str) -> Result<Model> {
        #[derive(Deserialize)]
        struct Header {
            format: String,
            version: u32,
        }
        let header: Header =
            serde_json::from_str(json).map_err(|e| bad(format!("not a model file: {e}")))?;
        if header.format != FORMAT {
            return Err(bad("format is not idstitch-model"));
        }
        // Version 1 lacks field presence (read as 1: no missing-field
        // evidence for pairs known not to agree exactly).
        if !(1..=MODEL_FORMAT_VERSION).contains(&header.version) {
            return Err(bad(format!(
                "version {} is not supported (this build reads versions 1 to {MODEL_FORMAT_VERSION})",
                header.version
            )));
        }
        let file: ModelFile = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        let mut model = Model {
            mode: file.mode,
            global_prior: check_probability("global_prior", file.global_prior)?,
            tf_min: check_probability("tf_min", file.tf_min)?,
            ..Model::default()
        };
        model = model
            .with_tf_fields(file.tf_fields)
            .map_err(|_| bad("tf_fields: only name parts and city have frequencies"))?;
        model.priors.clear();
        for p in file.priors {
            if model.priors.iter().any(|(r, _)| *r == p.rule) {
                return Err(bad("a rule has two priors"));
            }
            let prob = check_probability("prior", p.probability)?;
            if prob >= 1.0 {
                return Err(bad("prior must be below 1"));
            }
            model.priors.push((p.rule, prob));
        }
        let mut seen = [false; crate::compare::FIELDS];
        for fp in file.fields {
            let f = fp.field;
            if std::mem::replace(&mut seen[f as usize], true) {
                return Err(bad(format!("field {} listed twice", f.as_str())));
            }
            model.presence[f as usize] = check_probability("presence", fp.presence)?;
            let mut got = [false; crate::compare::LEVEL_CODES];
            for lp in fp.levels {
                let level = Level::parse(f, &lp.level)
                    .filter(|l| !l.is_neutral())
                    .ok_or_else(|| bad(format!("unknown level for field {}", f.as_str())))?;
                let c = usize::from(level.code());
                model.m[f as usize][c] = check_probability("m", lp.m)?;
                model.u[f as usize][c] = check_probability("u", lp.u)?;
                if std::mem::replace(&mut got[c], true) {
                    return Err(bad(format!("field {} lists a level twice", f.as_str())));
                }
            }
            if trainable_codes(f).any(|c| !got[c]) {
                return Err(bad(format!(
                    "field {} does not list every level once",
                    f.as_str()
                )));
            }
        }
        if seen.iter().any(|s| !s) {
            return Err(bad("a field is missing"));
        }
        for ne in file.not_exact {
            let mut m = [0.0; crate::compare::LEVEL_CODES];
            for (name, p) in ne.levels {
                let level = Level::parse(ne.field, &name)
                    .filter(|l| !l.is_exact())
                    .ok_or_else(|| bad(format!("unknown level for field {}", ne.field.as_str())))?;
                if !(p.is_finite() && (0.0..=1.0).contains(&p)) {
                    return Err(bad("not-exact m must be a probability"));
                }
                m[usize::from(level.code())] = p;
            }
            model.not_exact_m.push((ne.rule, ne.field, m));
        }
        if let Some(all) = file.frequencies {
            // Frozen even with no field listed (a model without tf fields).
            model.frequencies = Some(Vec::new());
            let mut fields = Vec::with_capacity(all.len());
            for fp in all {
                if fields.contains(&fp.field) {
                    return Err(bad("frequencies: a field listed twice"));
                }
                fields.push(fp.field);
                model = model
                    .with_frequencies(fp.field, fp.counts)
                    .map_err(|e| bad(format!("frequencies: {e}")))?;
            }
        }
        Ok(model)
    }
}
