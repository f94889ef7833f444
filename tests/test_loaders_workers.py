"Pool sizes: `default_workers` (CPU affinity, DDP ranks) and one shared reading pool per family of `HPADL` loaders."
import gc, os, pickle
import pytest
from fastcore.basics import defaults, num_cpus
from hpa_protein.data import default_workers
from hpa_protein.loaders import HPADL

@pytest.mark.skipif(not hasattr(os, 'sched_getaffinity'), reason='no CPU affinity on this platform')
def test_default_workers_affinity_and_ranks(monkeypatch):
    monkeypatch.setattr(os, 'sched_getaffinity', lambda pid: set(range(6)))   # a container given 6 of the host's cores
    monkeypatch.setattr(os, 'cpu_count', lambda: 64)
    monkeypatch.setattr(defaults, 'cpus', num_cpus())                           # what fastai computes at import
    monkeypatch.delenv('LOCAL_WORLD_SIZE', raising=False)
    assert default_workers() == 6
    monkeypatch.setenv('LOCAL_WORLD_SIZE', '2')                                 # torchrun: two ranks on this machine
    assert default_workers() == 3
    monkeypatch.setenv('LOCAL_WORLD_SIZE', '8')
    assert default_workers() == 1

def test_new_shares_the_pool():
    dl = HPADL(list(range(10)), n_threads=2, bs=4)
    ex = dl._get_pool()
    dl2 = dl.new(shuffle=True)
    assert dl2._get_pool() is ex and dl2.new()._get_pool() is ex
    assert [int(x) for b in dl2 for x in b] != [] and dl._get_pool() is ex      # reading through the copy keeps it
    assert dl.new(n_threads=1)._pool is not dl._pool                             # another size: another pool
    c = pickle.loads(pickle.dumps(dl2))
    assert c._pool is None and c._get_pool() is not ex                            # not pickled; a fresh one after
    del dl; gc.collect()
    assert not ex._shutdown                                                      # dl2 still holds it
    del dl2; gc.collect()
    assert ex._shutdown                                                          # gone with the last loader
