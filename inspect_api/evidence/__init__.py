"""Photo and signature evidence: the pure image pipeline lives in ``pipeline``.

Nothing here knows Flask or MongoDB; the HTTP layer and GridFS storage call
:func:`inspect_api.evidence.pipeline.process_photo` and friends.
"""
