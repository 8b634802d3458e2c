"""On-site inspections: assignments, offline bundles, check-in, responses, submission."""
