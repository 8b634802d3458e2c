"""Verify a published dr1 draw record: ``python -m inspect_api.draws.verify record.json``.

The verifier itself is :func:`inspect_api.draws.dr1.main`: ``dr1.py`` is one
standard-library file that the public site serves byte for byte as
``/p/verify.py``, so ``python3 verify.py record.json`` in any folder and this
module inside a checkout run the same code.  Exit status: 0 and ``OK`` when
everything matches; 1 and the first differing field when not; 2 when the
file cannot be read or is not a dr1 record.
"""

from __future__ import annotations

import sys

from inspect_api.draws.dr1 import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
