"""Hook implementations (the ``fbs`` entry point target)."""
