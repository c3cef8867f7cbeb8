"""Committed output of the generator: ``generated.looker_v1``.

Each package here is self-contained and imports its own modules relatively, so the same
output works under any folder on ``sys.path``.
"""
