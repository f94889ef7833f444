"Pool sizes: `default_workers` (CPU affinity, DDP ranks) and one reading pool per thread count for every `HPADL` loader."
import gc, os, pickle, multiprocessing as mp
import pytest
from fastcore.basics import defaults, num_cpus
from hpa_protein.core import default_workers
from hpa_protein.loaders import HPADL, _pool

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

def _read_in_child(q):
    "In a forked child: is the pool a fresh one, and does a loader read every item with it?"
    q.put((_pool(2)._threads == set(), sorted(int(x) for b in HPADL(list(range(10)), n_threads=2, bs=4) for x in b)))

@pytest.mark.skipif(not hasattr(os, 'fork'), reason='no fork on this platform')
def test_one_pool_per_size():
    dl = HPADL(list(range(10)), n_threads=2, bs=4)
    dl2 = dl.new(shuffle=True)
    assert sorted(int(x) for b in dl2 for x in b) == list(range(10))
    ex = _pool(2)
    threads = set(ex._threads)
    assert threads and _pool(dl.n_threads) is ex and _pool(dl2.new().n_threads) is ex   # every loader of 2 threads
    assert _pool(3) is not ex                                                           # another size: another pool
    c = pickle.loads(pickle.dumps(dl2))                                                 # a loader pickles as it is
    assert sorted(int(x) for b in c for x in b) == list(range(10)) and set(ex._threads) == threads  # same threads
    del dl, dl2, c; gc.collect()
    assert not ex._shutdown                                                             # kept for the next loaders
    ctx = mp.get_context('fork'); q = ctx.Queue()
    p = ctx.Process(target=_read_in_child, args=(q,)); p.start()
    try: assert q.get(timeout=60) == (True, list(range(10)))                # a forked child reads with a pool of its own
    finally: p.join(5); p.kill()
