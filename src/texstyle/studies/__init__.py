"""Studies built on the API: the statistics comparison sheet (``compare``), the adversarial
experiment (``experiment``) and its yardstick, the feature-moment gaps (``moments``).

They sit above ``texstyle.api`` and below the report and the command line.
"""
