"""``texstyle report`` and the figures: ``figures`` draws sheets, grids and plots (PIL in, PIL
out), ``build`` runs every stage of a report, ``render`` turns a finished report into files
(the page from the Jinja2 templates in ``templates/``).

The figure functions are re-exported here, where they have always been imported from.
"""

from .figures import contact_sheet, gan_curves, grid, loss_plot

__all__ = ["contact_sheet", "gan_curves", "grid", "loss_plot"]
