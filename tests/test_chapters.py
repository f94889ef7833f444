"""The six chapters as a reader meets them, checked by `tools/check_chapters.py`: no hidden cell shows an output, at
most `MAX_CODE` lines of code between two outputs of the story, every number the prose quotes is shown by an output of
the series (or made by a command the cell names), and commands are found as installed. A rerun whose outputs no longer
show a number the prose quotes fails here."""
import json, sys
from pathlib import Path
import pytest

root = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(root/'tools'))
import check_chapters as cc  # noqa: E402

@pytest.mark.parametrize('nb', cc.SERIES)
def test_chapter_reads(nb):
    assert (root/'nbs'/f'{nb}.ipynb').exists()
    probs = cc.check(root/'nbs'/f'{nb}.ipynb')
    assert not probs, f'{nb}: ' + '; '.join(probs)

def _nb(tmp_path, cells) -> Path:
    def cell(kind, text, out=None):
        c = {'cell_type': kind, 'metadata': {}, 'source': text.splitlines(True)}
        if kind == 'code': c.update(outputs=[{'output_type': 'stream', 'name': 'stdout', 'text': out}] if out else [], execution_count=None)
        return c
    fn = tmp_path/'x.ipynb'
    fn.write_text(json.dumps({'cells': [cell(*c) for c in cells], 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}))
    return fn

def test_check_finds_each_problem(tmp_path):
    ok = _nb(tmp_path, [('code', 'print(f1)', 'macro F1 0.457\n'), ('markdown', 'The macro F1 printed above, 0.457, and 12,885 images.')])
    assert cc.check(ok, outs='macro F1 0.457\n12885') == []
    assert cc.check(ok, outs='macro F1 0.460\n12885') == ['cell 1: the prose quotes 0.457, which no output of the series shows']
    named = _nb(tmp_path, [('markdown', 'Measured by `python bench/bench_x.py`: 0.999.')])
    assert cc.check(named, outs='') == []
    hid = _nb(tmp_path, [('code', '#| hide\nprint(1)', '1\n')])
    assert cc.check(hid, outs='') == ['cell 0: a hidden cell shows an output']
    long = _nb(tmp_path, [('code', 'a', 'x\n'), ('code', '\n'.join(['b = 1']*61)), ('code', 'c', 'y\n')])
    assert cc.check(long, outs='') == ['cells 1-2: 61 lines of code between two outputs of the story (at most 60)']
    story_only = _nb(tmp_path, [('markdown', '## Under the hood'), ('code', 'a', 'x\n'), ('code', '\n'.join(['b = 1']*61)), ('code', 'c', 'y\n')])
    assert cc.check(story_only, outs='') == []
    cmd = _nb(tmp_path, [('code', "subprocess.run([Path(sys.executable).parent/'hpa_split'])")])
    assert cc.check(cmd, outs='') == ['cell 0: finds a command next to the interpreter']
    user = _nb(tmp_path, [('code', 'path = hpa_path(data)', ''), ('markdown', '## Under the hood'), ('code', 'fx = make_synth(tmp)  # not the data'),
                          ('code', 'df = read_labels(hpa_path(data))'), ('code', "x = {'data': 1}; y = o.data")])
    assert cc.check(user, outs='') == ["cell 3: under the hood, reads the user's dataset (`data` or `hpa_path`)"]
