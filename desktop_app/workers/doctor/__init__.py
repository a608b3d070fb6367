"""Running ``glassbox doctor`` and its Qt probe in child processes."""
