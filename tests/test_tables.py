import math

import numpy as np

from neuroseg.tables import format_number, format_table


def test_four_significant_digits():
    assert format_number(0.831249) == "0.8312"
    assert format_number(12.3456) == "12.35"
    assert format_number(1234.5) == "1234"  # 4 significant digits, no decimals
    assert format_number(0.0) == "0.000"
    assert format_number(np.float32(0.5)) == "0.5000"
    assert format_number(1.5e-5) == "1.500e-05"


def test_missing_values_integers_and_intervals():
    assert format_number(math.nan) == "-"
    assert format_number(None) == "-"
    assert format_number(1311) == "1311"
    assert format_number(True) == "True"
    assert format_number((0.71234, 0.80111), digits=3) == "[0.712, 0.801]"


def test_table_aligns_text_left_and_numbers_right():
    text = format_table(
        [("glioma", 0.9, 120), ("no_tumour", 0.75, 8)], header=("class", "recall", "n")
    )
    lines = text.splitlines()
    assert lines[0].split() == ["class", "recall", "n"]
    assert lines[1].startswith("glioma ")
    assert lines[2].startswith("no_tumour")
    # numbers end in the same column
    assert len(lines[1]) == len(lines[2])
    assert lines[1].endswith("120") and lines[2].endswith("  8")
    assert "0.9000" in lines[1] and "0.7500" in lines[2]


def test_empty_table():
    assert format_table([]) == ""
