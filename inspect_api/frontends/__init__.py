"""Front ends: packages of their own that reach the API only over HTTP from the browser (DESIGN §1)."""
