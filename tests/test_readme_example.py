import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2, "README lost its Python examples"
    return blocks


def test_readme_pretrained_example_prints_a_meaningful_dice(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(_blocks()[0], "README.md", "exec"), namespace)
    # The shipped model on the sample's Figshare slices: a real segmentation, not 0.000.
    assert namespace["score"] > 0.3
    printed = capsys.readouterr().out
    assert f"{namespace['score']:.3f}" in printed
    # The comment in the README states the figure; keep it true.
    assert f"# {namespace['score']:.3f}" in _blocks()[0]


def test_readme_training_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(_blocks()[1], "README.md", "exec"), namespace)
    result = namespace["result"]
    assert len(result.history["dice"]) == 2
    assert len(result.history["val_dice"]) == 2
    assert "training Dice by epoch:" in capsys.readouterr().out
