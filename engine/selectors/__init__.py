"""Reads for the engine, one module per entity. Every lookup by id goes through
accounts.access, so another workspace's object answers 404."""

# Lookups through a project, an experiment or a deployment, for objects that hang off one.
VIA_PROJECT = "project__workspace"
VIA_EXPERIMENT = "experiment__project__workspace"
VIA_DEPLOYMENT = "deployment__project__workspace"
