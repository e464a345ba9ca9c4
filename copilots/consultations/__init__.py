"""The six copilots, one module each, by consultation type.

Each module has `check(obj)` (raises NotApplicable), `links(obj)` (the Consultation's FKs),
`build_evidence(obj, **kw)`, `build_messages(evidence)`, `parse(text)`,
`offline_advice(evidence)` and `finalize(reply, evidence, offline, obj)` (the deterministic
post-rules applied to an LLM's reply).
"""

from types import ModuleType

from copilots.consultations import (
    dataset_analysis,
    deployment_review,
    drift_analysis,
    experiment_design,
    failure_debugging,
    run_explanation,
)

COPILOTS: dict[str, ModuleType] = {
    module.TYPE: module
    for module in (
        dataset_analysis,
        experiment_design,
        run_explanation,
        failure_debugging,
        deployment_review,
        drift_analysis,
    )
}


def copilot(type: str) -> ModuleType:
    try:
        return COPILOTS[type]
    except KeyError:
        raise ValueError(f"Unknown copilot {type!r}") from None
