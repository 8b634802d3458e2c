"""Front ends served by the same Flask app; each calls the API only over HTTP from the browser."""
