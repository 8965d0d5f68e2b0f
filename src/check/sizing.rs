//! Model memory fit as diagnostics: a model too big for its host, models
//! that may be loaded together but do not fit together, a tight fit, and a
//! model the catalog cannot size.

use crate::codes::{MEMORY_FIT, UNKNOWN_CATALOG_MODEL};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::Spec;
use crate::sizing::catalog::Catalog;
use crate::sizing::fit::{
    Crowding, CrowdingReason, FactsSource, HostFit, ModelFit, Verdict, assess, size_class,
};
use crate::sizing::gib;

/// Checks that the spec's models fit the host that runs Ollama.
pub fn check(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let catalog = Catalog::bundled();
    let Some(fit) = assess(spec, catalog) else {
        return;
    };
    for model in &fit.models {
        out.extend(model_diagnostic(spec, catalog, &fit, model));
    }
    for crowding in &fit.crowding {
        out.push(crowding_diagnostic(spec, &fit, crowding));
    }
}

fn model_path(index: usize) -> SpecPath {
    SpecPath::root().key("ollama").key("models").index(index)
}

/// `llama3.3:70b, a 70B model (70.6B parameters, Q4_K_M)`, or the name alone.
fn describe(model: &ModelFit) -> String {
    match (&model.source, model.parameters_b, &model.quantization) {
        (FactsSource::Catalog { tag }, Some(b), Some(quant)) => {
            let shown = if *tag == model.name {
                format!("`{tag}`")
            } else {
                format!("`{}` (`{tag}`)", model.name)
            };
            let class = size_class(tag).unwrap_or_else(|| format!("{}B", b.round()));
            let article =
                if class.starts_with('8') || class.starts_with("11") || class.starts_with("18") {
                    "an"
                } else {
                    "a"
                };
            format!("{shown}, {article} {class} model ({b}B parameters, {quant})")
        }
        _ => format!("`{}`", model.name),
    }
}

fn host_words(spec: &Spec, fit: &HostFit) -> String {
    let host = spec.hosts.iter().find(|h| h.name == fit.budget.host);
    match host.and_then(|h| h.chip.as_deref().map(|chip| (h.ram_gb, chip))) {
        Some((ram, chip)) => format!("`{}` ({ram} GB, {chip})", fit.budget.host),
        None => format!(
            "`{}` ({} GB)",
            fit.budget.host,
            host.map(|h| h.ram_gb).unwrap_or_default()
        ),
    }
}

fn model_diagnostic(
    spec: &Spec,
    catalog: &Catalog,
    fit: &HostFit,
    model: &ModelFit,
) -> Option<Diagnostic> {
    let path = model_path(model.index).key("name");
    let budget_note = format!("budget: {}", fit.budget.explain());
    match model.verdict {
        Verdict::Fits => None,
        Verdict::Unknown => {
            let names = catalog.names();
            let hint = match crate::spec::closest(&model.name, &names) {
                Some(best) => format!("did you mean `{best}`? Otherwise give the model's download size as `size_gb` (from `ollama list`)"),
                None => "give the model's download size as `size_gb` (from `ollama list`) so its weights can be counted, or pick a catalog model (`privai models` lists them)".to_owned(),
            };
            Some(
                Diagnostic::error(
                    UNKNOWN_CATALOG_MODEL,
                    format!("`{}` is not in privai's model catalog: its memory cannot be checked", model.name),
                )
                .at(path)
                .hint(hint),
            )
        }
        Verdict::TooBig => {
            let estimate = model.estimate?;
            // Point at the model's own context when a shorter one would do.
            let context_is_the_cause = spec.ollama.models[model.index].context_length.is_some()
                && model.fixes.iter().any(|f| f.contains("context"));
            let path = if context_is_the_cause {
                model_path(model.index).key("context_length")
            } else {
                path
            };
            let mut d = Diagnostic::error(
                MEMORY_FIT,
                format!(
                    "{} needs {} at {} tokens of context, more than the {} that {} can give to models",
                    describe(model),
                    gib(estimate.total),
                    estimate.context,
                    gib(fit.budget.available),
                    host_words(spec, fit),
                ),
            )
            .at(path)
            .note(breakdown(spec, model))
            .note(budget_note);
            d.hint = Some(too_big_hint(model));
            Some(d)
        }
        Verdict::Tight => {
            let estimate = model.estimate?;
            let spare = model.headroom.unwrap_or_default().max(0) as u64;
            Some(
                Diagnostic::warning(
                    MEMORY_FIT,
                    format!(
                        "{} fits {} with only {} to spare ({} of {}): other apps or a longer prompt may push it out of GPU memory",
                        describe(model),
                        host_words(spec, fit),
                        gib(spare),
                        gib(estimate.total),
                        gib(fit.budget.available),
                    ),
                )
                .at(path)
                .note(breakdown(spec, model))
                .note(budget_note)
                .hint("keep 10 % free: a shorter `context_length`, `kv_cache_type = 'q8_0`, or a smaller model"),
            )
        }
    }
    .or_else(|| stated_size_warning(model))
}

/// A model sized from `size_gb` only: its KV cache is not counted.
fn stated_size_warning(model: &ModelFit) -> Option<Diagnostic> {
    (model.source == FactsSource::StatedSize && model.verdict != Verdict::TooBig).then(|| {
        Diagnostic::warning(
            UNKNOWN_CATALOG_MODEL,
            format!(
                "`{}` is not in privai's model catalog: its fit counts the {} of weights from `size_gb` but not its KV cache",
                model.name,
                model.download_bytes.map(gib).unwrap_or_default()
            ),
        )
        .at(model_path(model.index).key("size_gb"))
        .hint("leave room for the KV cache, or use a catalog model (`privai models` lists them)")
    })
}

fn breakdown(spec: &Spec, model: &ModelFit) -> String {
    let Some(e) = model.estimate else {
        return String::new();
    };
    let slots = if spec.ollama.num_parallel > 1 {
        format!(" × {} slots", spec.ollama.num_parallel)
    } else {
        String::new()
    };
    format!(
        "needs: weights {} + KV cache {} ({} tokens{slots}, {:?}) + compute and runtime {} = {}",
        gib(e.weights),
        gib(e.kv_cache),
        e.context,
        spec.ollama.kv_cache_type,
        gib(e.compute),
        gib(e.total)
    )
    .replace("Q8_0", "q8_0")
    .replace("Q4_0", "q4_0")
    .replace("F16", "f16")
}

fn too_big_hint(model: &ModelFit) -> String {
    let mut options = Vec::new();
    if !model.alternatives.is_empty() {
        let list: Vec<String> = model
            .alternatives
            .iter()
            .map(|a| format!("`{}` ({}B, needs {})", a.tag, a.parameters_b, gib(a.total)))
            .collect();
        options.push(format!("use a model that fits: {}", list.join(", ")));
    }
    if !model.fixes.is_empty() {
        options.push(format!("keep it with {}", model.fixes.join(", or ")));
    }
    if options.is_empty() {
        "no catalog model of this role fits this host: free memory (a smaller gateway `memory_mb`) or move Ollama to a larger host".to_owned()
    } else {
        options.join("; or ")
    }
}

fn crowding_diagnostic(spec: &Spec, fit: &HostFit, crowding: &Crowding) -> Diagnostic {
    let names: Vec<String> = crowding
        .models
        .iter()
        .map(|&i| format!("`{}`", spec.ollama.models[i].name))
        .collect();
    let (why, path, hint) = match crowding.reason {
        CrowdingReason::MaxLoaded => (
            format!(
                "with `max_loaded_models = {}` and `keep_alive = \"{}\"`, {} may be loaded at once",
                spec.ollama.max_loaded_models,
                spec.ollama.keep_alive,
                names.join(" and ")
            ),
            SpecPath::root().key("ollama").key("max_loaded_models"),
            "set `ollama.max_loaded_models` so that the largest models loaded together fit, or use smaller models",
        ),
        CrowdingReason::KeepWarm => (
            format!("{} are all kept warm", names.join(" and ")),
            model_path(*crowding.models.last().unwrap_or(&0)).key("keep_warm"),
            "keep only the primary warm, or pick a fallback small enough to stay loaded beside it",
        ),
    };
    Diagnostic::error(
        MEMORY_FIT,
        format!(
            "{why}: together they need {}, more than the {} that {} can give to models",
            gib(crowding.total),
            gib(fit.budget.available),
            host_words(spec, fit)
        ),
    )
    .at(path)
    .note(format!("budget: {}", fit.budget.explain()))
    .hint(hint)
}
