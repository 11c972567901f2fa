import pytest

from neuroseg.errors import ConfigError
from neuroseg.train.toml import apply_overrides, dumps, loads


def test_toml_dump_load_and_overrides():
    data = {
        "train": {"epochs": 5, "lr": 0.1, "flags": [1, 2]},
        "data": {"path": "a b", "cache": True},
    }
    assert loads(dumps(data)) == data
    out = apply_overrides(data, ["train.epochs=3", "data.path=/x/y", 'data.val_groups=["fold-4"]'])
    assert out["train"]["epochs"] == 3 and out["data"]["path"] == "/x/y"
    assert out["data"]["val_groups"] == ["fold-4"]
    assert data["train"]["epochs"] == 5  # the input is not modified
    with pytest.raises(ConfigError, match="section.key=value"):
        apply_overrides(data, ["nonsense"])
    with pytest.raises(ConfigError, match="invalid TOML"):
        loads("a = ")
    with pytest.raises(ConfigError, match=r"^run\.toml: invalid TOML"):
        loads("a = ", source="run.toml")


def test_dumps_by_hand():
    data = {
        "t": {"e": 1e-05, "skipped": None, "weights": {0: 2.0}},
        "flag": True,
        "f": 1.5,
        "s": 'say "hi" \\ é',
        "none": None,
        "l": [1, "two", [False]],
    }
    assert dumps(data) == (
        "flag = true\n"
        "f = 1.5\n"
        's = "say \\"hi\\" \\\\ \\u00e9"\n'
        'l = [1, "two", [false]]\n'
        "\n"
        "[t]\n"
        "e = 1e-05\n"
        "weights = { 0 = 2.0 }\n"
    )  # scalars first, then the tables; None is left out
    assert loads(dumps(data)) == {
        "flag": True,
        "f": 1.5,
        "s": 'say "hi" \\ é',
        "l": [1, "two", [False]],
        "t": {"e": 1e-05, "weights": {"0": 2.0}},
    }


def test_dumps_quotes_keys_that_are_not_bare_and_drops_none_everywhere():
    data = {"a b": 1, "x.y": {"k-1": "v", "c d": {"e f": 2, "gone": None}}}
    text = dumps(data)
    assert text == '"a b" = 1\n\n["x.y"]\nk-1 = "v"\n"c d" = { "e f" = 2 }\n'
    assert loads(text) == {"a b": 1, "x.y": {"k-1": "v", "c d": {"e f": 2}}}


def test_overrides_leave_nested_tables_of_the_input_alone():
    config = {"data": {"options": {"root": "a"}}}
    out = apply_overrides(config, ["data.options.root=b"])
    assert out == {"data": {"options": {"root": "b"}}}
    assert config == {"data": {"options": {"root": "a"}}}


@pytest.mark.parametrize(
    ("value", "name"),
    [(float("nan"), "nan"), (float("-inf"), "-inf"), ({1}, "set"), (b"x", "bytes")],
)
def test_dumps_refuses_what_toml_cannot_hold(value, name):
    with pytest.raises(ConfigError, match=f"^cannot write {name} to TOML$"):
        dumps({"train": {"x": value}})


def test_loads_names_the_source_and_position():
    assert loads("[data]\npath = 'x'\n") == {"data": {"path": "x"}}
    with pytest.raises(ConfigError) as info:
        loads("[data]\npath = x\n", source="exp.toml")
    message = str(info.value)
    assert message.startswith("exp.toml: invalid TOML (") and "line 2" in message
    assert "strings need quotes" in message


def test_overrides_parse_values_as_toml_else_as_text():
    out = apply_overrides(
        {"train": {"epochs": 5}},
        [
            " train.epochs = 3",  # spaces around the key and the value
            "data.path=/x/y",  # not TOML: kept as text
            'data.name="fold 4"',
            "data.sizes=[64, 48]",
            "data.cache=true",
            "data.empty=",
            "model.blocks.depth=2",  # nested tables are created
        ],
    )
    assert out == {
        "train": {"epochs": 3},
        "data": {
            "path": "/x/y",
            "name": "fold 4",
            "sizes": [64, 48],
            "cache": True,
            "empty": "",
        },
        "model": {"blocks": {"depth": 2}},
    }


def test_bad_overrides_name_the_item():
    for item in ("=3", "   =3", "train.epochs"):
        with pytest.raises(ConfigError, match=f"--set expects section.key=value, got {item!r}"):
            apply_overrides({}, [item])
    with pytest.raises(ConfigError, match=r"^--set 'seed.value=1': 'seed' is not a table$"):
        apply_overrides({"seed": 0}, ["seed.value=1"])
