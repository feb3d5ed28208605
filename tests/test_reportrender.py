"""The report page's templates: values are escaped, numbers formatted, nothing left undefined."""

from __future__ import annotations

import re

import jinja2
import pytest

from texstyle.report import render as reportrender


def test_values_put_into_a_template_are_escaped():
    page = str(reportrender._render("mixing.html.j2", a="<script>x</script>", b="a&b", size=48,
                                    iters=3))
    assert "<script>" not in page and "&lt;script&gt;" in page and "a&amp;b" in page
    assert "48 px, 3 evaluations" in page


def test_numbers_are_formatted_by_the_template():
    page = str(reportrender._render("timings.html.j2", stages=[("texture", 1.234)], total=1.234,
                                    environment=[("torch", "2.13")]))
    assert "<td>1.2</td>" in page and re.search(r"total\s+1\.2 s", page)


def test_a_missing_value_is_an_error_not_an_empty_string():
    with pytest.raises(jinja2.UndefinedError):
        reportrender._render("mixing.html.j2", a="A")
