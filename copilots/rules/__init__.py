"""The copilots' rule book: the deterministic judgements behind their evidence, risks and verdicts.

One module per family of judgement. A rule is a plain function of values (profiles, scores,
summaries), so it tests without a database; `columns.class_counts` and `leakage.sample_frame`
are the two readers that fetch what a rule needs from a dataset's Parquet copy. The copilots
(`copilots.consultations`) compose the rules; the LLM explains them and cannot overrule them.
"""
