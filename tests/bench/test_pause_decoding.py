"""`bench.pause_decoding`: its settings are read as window and beam, a wrong one is a one-line error."""

from __future__ import annotations

import pytest

from bench.pause_decoding import parse_setting


def test_a_setting_names_the_window_and_the_beam() -> None:
    assert parse_setting("w10b3") == (10, 3)
    assert parse_setting("w0b1") == (0, 1)


def test_a_wrong_setting_is_a_one_line_error() -> None:
    with pytest.raises(SystemExit, match="a setting is wNbM"):
        parse_setting("beam3")
