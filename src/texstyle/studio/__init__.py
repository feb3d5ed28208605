"""texstyle studio: a local web page on which a run is set up, watched and stopped.

The page is a thin view of state kept here on the server (``runs.Studio``): the queue, each run's
progress and latest frame, its result and record.  The controls are read from the option
declarations (``controls``), uploads are checked with the command line's image loading
(``uploads``), and runs are ordinary ``api.run_texture`` / ``run_stylize`` calls whose progress
events feed the page.  ``app`` is the HTTP face (Starlette), ``server`` runs it (uvicorn).  The web
dependencies are the optional ``studio`` extra; nothing here imports them but ``app`` and
``server``.
"""
