"""Draw plans, the dr1 draw engine and its stdlib-only verifier (DESIGN §5).

Deliberately empty: ``python -m inspect_api.draws.verify record.json`` must run
in a bare interpreter, so importing this package must not pull in Flask or
MongoDB.  Import the submodules you need (``inspect_api.draws.dr1``,
``inspect_api.draws.lifecycle``, ...).
"""
