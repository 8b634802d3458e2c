"""The national working-day calendar as corrected by offices (overrides in the database)."""
