"""Hypothesis profiles for the whole suite.

* ``ci`` (default): enough examples to find real bugs, fast enough for every push.
* ``long``: many more examples for a patient run, chosen by ``GLASSGRAD_LONG=1``.
* ``mutmut``: few examples, for mutation testing (hundreds of re-runs of the suite).

Pick one on the command line with ``python -m pytest --hypothesis-profile=long``.
No deadline anywhere: timing is for benchmarks, not for pass/fail.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=300, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long", max_examples=5000, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "mutmut", max_examples=40, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("long" if os.environ.get("GLASSGRAD_LONG") == "1" else "ci")
