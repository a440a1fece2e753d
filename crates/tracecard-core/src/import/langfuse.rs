//! Langfuse trace export (`{trace, observations[]}`). Observation types give the
//! step kinds; each observation's `metadata` (a JSON string) carries the original
//! OTel attributes, read with the shared mapping in [`super::genai`] for tool-call
//! ids, token details and content. See `docs/formats/langfuse.md`.

use std::path::Path;

use serde_json::Value;

use super::Input;
use super::genai::{self, Attrs, BuildInfo, Class, SpanRec};
use super::json::At;
use crate::model::{TokenUsage, Trace, Warning};
use crate::{Error, Result};

const SEMANTICS: &str = "Langfuse usageDetails: disjoint buckets (input excludes cache reads/writes) summing to `total`; when the buckets only add up with reasoning counted apart, reasoning is added to output. Falls back to the OTel attributes (inclusive input) when usageDetails is empty";

/// Does this look like a Langfuse trace export?
pub(crate) fn sniff(_path: &Path, head: &str) -> bool {
    head.trim_start().starts_with('{')
        && head.contains("\"observations\"")
        && (head.contains("\"parentObservationId\"") || head.contains("\"projectId\""))
}

/// Import the trace.
pub(crate) fn import(input: &Input) -> Result<Vec<Trace>> {
    let text = input.text()?;
    let path = input.path.as_path();
    let v: Value = serde_json::from_str(text).map_err(|e| Error::from_json(path, None, e))?;
    let at = At::new(path, None);
    if !v.is_object() {
        return Err(at.err("", "expected a {trace, observations} object"));
    }
    let tr = at
        .obj(&v, "trace")?
        .ok_or_else(|| at.err("trace", "missing: not a Langfuse trace export"))?;
    let tr = Value::Object(tr.clone());
    let obs = match v.get("observations") {
        Some(_) => at.arr(&v, "observations")?,
        None => at.arr(&tr, "observations")?,
    };
    let trace_id = at.str(&tr, "id")?.unwrap_or("").to_string();
    let file = path.display().to_string();
    let mut warnings = Vec::new();
    let mut spans = Vec::new();
    // an observation id names one observation: a second copy is counted once
    let (obs, dups) = super::dedup_list(
        &file,
        "observations",
        obs,
        |o| super::id_of(o, "id"),
        |o| Some(o.get("startTime").is_some()),
    );
    warnings.extend(dups);
    for (i, o) in obs {
        let oat = At::new(path, None);
        if !o.is_object() {
            return Err(oat.err(&format!("observations[{i}]"), "expected an object"));
        }
        spans.push(observation(&oat, o, &file, &mut warnings)?);
    }
    let fallback = if trace_id.is_empty() {
        input.stem()
    } else {
        trace_id.clone()
    };
    let session = match at.str(&tr, "sessionId")? {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => genai::session_of(&spans, &fallback),
    };
    let mut t = genai::build_trace(
        BuildInfo {
            format: "langfuse",
            file: file.clone(),
            session_id: session,
            token_semantics: SEMANTICS,
        },
        spans,
    );
    t.warnings.extend(warnings);
    t.metadata.insert("trace_id".into(), trace_id);
    if let Some(n) = at.str(&tr, "name")? {
        t.metadata.insert("trace_name".into(), n.to_string());
    }
    if t.started_at.is_none() {
        t.started_at = at.time(&tr, "timestamp")?;
    }
    Ok(vec![t])
}

/// The original OTel attributes in `metadata` (a JSON string or an object).
fn metadata_attrs(o: &Value, id: &str, file: &str, warnings: &mut Vec<Warning>) -> Attrs {
    let md = match o.get("metadata") {
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(v) => v,
            Err(e) => {
                warnings.push(Warning::at(
                    crate::model::WarningCode::BadMetadata,
                    format!("observation {id}: metadata is not JSON ({e}); attributes ignored"),
                    file,
                    None,
                ));
                return Attrs::new();
            }
        },
        Some(v @ Value::Object(_)) => v.clone(),
        _ => return Attrs::new(),
    };
    md.get("attributes")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn content_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        other => Some(genai::text_of(other)),
    }
}

fn ns(t: Option<jiff::Timestamp>) -> Option<i128> {
    t.map(|t| t.as_nanosecond())
}

/// One observation as a span.
fn observation(at: &At<'_>, o: &Value, file: &str, warnings: &mut Vec<Warning>) -> Result<SpanRec> {
    let id = at.req_str(o, "id")?.to_string();
    let ty = at.str(o, "type")?.unwrap_or("SPAN").to_ascii_uppercase();
    let name = at.str(o, "name")?.unwrap_or("").to_string();
    let attrs = metadata_attrs(o, &id, file, warnings);
    let by_attrs = genai::classify(&name, &attrs);
    let op = genai::attr_str(&attrs, &["gen_ai.operation.name"]);
    let class = match ty.as_str() {
        // an agent-level generation (AI SDK `ai.generateText`) repeats its calls' usage
        "GENERATION" if by_attrs == Class::Agent => Class::Agent,
        "GENERATION" => Class::Llm,
        "TOOL" => Class::Tool,
        "AGENT" if op.as_deref() == Some("create_agent") => Class::Container,
        "AGENT" => Class::Agent,
        "EVENT" => Class::Container,
        // SPAN / CHAIN / …: tool spans by attributes (Koog GenAI, Agno OpenInference),
        // minus BeeAI's lifecycle echoes (`….finish-N`, `….success-N`) of one call
        _ if by_attrs == Class::Tool && !is_lifecycle_echo(&name) => Class::Tool,
        _ if by_attrs == Class::Agent => Class::Agent,
        _ => Class::Container,
    };
    let mut rec = SpanRec::new(id.clone(), name, attrs, class);
    rec.parent = at.str(o, "parentObservationId")?.map(str::to_string);
    rec.start_ns = ns(at.time(o, "startTime")?);
    rec.end_ns = ns(at.time(o, "endTime")?);
    if at.str(o, "level")? == Some("ERROR") {
        rec.error = Some(
            at.str(o, "statusMessage")?
                .unwrap_or("observation level ERROR")
                .to_string(),
        );
    }
    rec.input = content_text(o.get("input"));
    rec.output = content_text(o.get("output"));
    if class == Class::Llm {
        rec.model = at.str(o, "model")?.map(str::to_string);
        if let Some(ud) = at.obj(o, "usageDetails")? {
            let ud = Value::Object(ud.clone());
            rec.usage = usage(at, &ud)?;
            if let (Some(u), Some(a)) = (rec.usage, genai::tokens(&rec.attrs))
                && (u.prompt_total() != a.prompt_total() || u.output != a.output)
            {
                warnings.push(Warning::at(
                        crate::model::WarningCode::UsageMismatch,
                        format!(
                            "observation {id}: usageDetails ({} in / {} out) differ from the span attributes ({} in / {} out); usageDetails kept",
                            u.prompt_total(), u.output, a.prompt_total(), a.output
                        ),
                        file,
                        None,
                    ));
            }
        }
        rec.cost = cost(at, o)?;
        if rec.usage.is_none()
            && genai::tokens(&rec.attrs).is_none()
            && rec.cost.unwrap_or(0.0) == 0.0
        {
            // BeeAI emits lifecycle generations (`…success-N`, `…finish-N`) for one request
            warnings.push(Warning::at(
                crate::model::WarningCode::GenerationWithoutUsage,
                format!("observation {id} ({}) is a GENERATION without usage or cost: treated as a lifecycle record of a request, not a billed call", rec.name),
                file,
                None,
            ));
            rec.class = Class::Container;
        }
    }
    Ok(rec)
}

/// BeeAI emits `<op>.start-N`, `<op>.success-N`/`error-N`, `<op>.finish-N` for one
/// operation; only `start` is kept as the step.
fn is_lifecycle_echo(name: &str) -> bool {
    name.rsplit_once('-').is_some_and(|(head, n)| {
        n.chars().all(|c| c.is_ascii_digit())
            && [
                ".finish",
                ".success",
                ".error",
                ".partial_update",
                ".update",
            ]
            .iter()
            .any(|s| head.ends_with(s))
    })
}

/// Normalised usage from `usageDetails`; `None` when empty.
fn usage(at: &At<'_>, ud: &Value) -> Result<Option<TokenUsage>> {
    let get = |keys: &[&str]| -> Result<Option<u64>> {
        for k in keys {
            if let Some(v) = at.tokens(ud, k)? {
                return Ok(Some(v));
            }
        }
        Ok(None)
    };
    let input = get(&["input", "prompt_tokens", "input_tokens"])?;
    let output = get(&["output", "completion_tokens", "output_tokens"])?;
    if input.is_none() && output.is_none() {
        return Ok(None);
    }
    let (input, output) = (input.unwrap_or(0), output.unwrap_or(0));
    let cr = get(&[
        "cache_read_input_tokens",
        "input_cache_read",
        "input_cached_tokens",
        "prompt_details.cache_read",
        "cache_read",
    ])?
    .unwrap_or(0);
    let cw = get(&[
        "cache_creation_input_tokens",
        "input_cache_creation",
        "input_cache_write",
        "prompt_details.cache_write",
        "cache_creation",
    ])?
    .unwrap_or(0);
    let rs = get(&[
        "output_reasoning",
        "completion_details.reasoning",
        "reasoning",
        "output_reasoning_tokens",
    ])?
    .unwrap_or(0);
    let total = get(&["total"])?;
    // reasoning reported apart from output when the buckets only add up that way
    let output_all = if rs > 0 && total == Some(input + cr + cw + output + rs) {
        output + rs
    } else {
        output
    };
    Ok(
        Some(TokenUsage::from_exclusive(input, cr, cw, 0, output_all)).map(|mut t| {
            t.reasoning = rs;
            t
        }),
    )
}

/// Langfuse's own cost of a generation: `costDetails.total`, else `totalCost`,
/// else `calculatedTotalCost`.
fn cost(at: &At<'_>, o: &Value) -> Result<Option<f64>> {
    if let Some(cd) = at.obj(o, "costDetails")?
        && let Some(t) = at.f64(&Value::Object(cd.clone()), "total")?
    {
        return Ok(Some(t));
    }
    if let Some(t) = at.f64(o, "totalCost")?.filter(|t| *t > 0.0) {
        return Ok(Some(t));
    }
    at.f64(o, "calculatedTotalCost")
}
