"""reconciler: keep Coperniq opportunities as YAML in git; plan and apply the differences."""

__version__ = "0.1.0"
