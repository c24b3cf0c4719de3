"""Java .properties text (kconform.java_properties): read as java.util.Properties reads it, and written so
that it reads back the same."""

from __future__ import annotations

from kconform.java_properties import parse_properties, render_properties


def test_parse_properties_handles_the_java_format() -> None:
    text = (
        "# comment\n"
        "! another comment\n"
        "\n"
        "a=1\n"
        "b : two words \n"
        "c three\n"
        "  d=\\\n"
        "    continued\n"
        "e\\=key=x\\ty\n"
        "f=\\u00e9\n"
        "g\n"
        "h==\n"
    )
    assert parse_properties(text) == {
        "a": "1",
        "b": "two words ",
        "c": "three",
        "d": "continued",
        "e=key": "x\ty",
        "f": "é",
        "g": "",
        "h": "=",
    }


def test_properties_round_trip() -> None:
    tricky = {
        "plain": "value",
        "provider": "${env:USER_CRT}",
        "with spaces": " leading and trailing ",
        "k=v:w": "a=b:c",
        "#hash": "#not a comment",
        "path": "C:\\dir\\file",
        "lines": "one\ntwo",
        "unicode": "é😀",
        "empty": "",
    }
    text = render_properties(tricky)
    assert parse_properties(text) == tricky
    assert text.isascii()
