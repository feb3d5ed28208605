"""Many runs at once: a folder or a manifest of stylisations, run one after another, in local
processes or as Ray tasks, resumable (a job whose image and record exist is skipped).

``jobs`` names the work (one ``Job`` per output), ``manifest`` reads CSV/JSON rows, ``work``
computes one job wherever it runs, ``local`` and ``ray`` hand jobs to workers; only the driver
writes files, so a Ray cluster needs no shared folder for the outputs.
"""
