from neuroseg.cli import main


def test_models_list_prints_table(capsys):
    assert main(["models", "list", "resunet-small"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["name", "task", "input", "params", "GFLOPs"]
    name, task, shape, params, gflops = lines[1].split()
    assert (name, task, shape, params) == ("resunet-small", "segmentation", "256x256x1", "517,809")
    assert 1.0 < float(gflops) < 20.0


def test_models_list_without_flops(capsys):
    assert main(["models", "list", "classifier-mobilenetv3s*", "--no-flops"]) == 0
    out = capsys.readouterr().out
    assert "classifier-mobilenetv3small" in out and "classification" in out
    assert "resunet" not in out and out.rstrip().endswith("-")


def test_models_without_action_is_an_error(capsys):
    assert main(["models"]) == 2
