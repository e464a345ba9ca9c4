"""Writes for the engine, one module per entity (`<entity>_<action>` functions)."""
