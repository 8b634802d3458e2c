"""The Chinese names of the API's codes, served to the front ends (``GET /api/v1/labels``)."""
