"Multi-process and network checks of hpa_protein.external: kill/resume of an import, download against a local server."
import os, signal, subprocess, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
import numpy as np, pandas as pd, pytest
from PIL import Image
from hpa_protein.data import write_png, validate
from hpa_protein.core import CHANNELS, img_file
from hpa_protein.external import download_v18, v18_url, import_v18

COMP = {'red': (0,), 'green': (1,), 'blue': (2,), 'yellow': (0, 1)}

def jpeg_bytes(color, size=64, seed=0):
    rng = np.random.default_rng(seed)
    rgb = np.zeros((size, size, 3), np.uint8)
    for k in COMP[color]: rgb[..., k] = rng.integers(0, 255, (size, size), dtype=np.uint8)
    buf = BytesIO(); Image.fromarray(rgb).save(buf, 'JPEG', quality=90); return buf.getvalue()

def kaggle_ds(dest, size=64):
    (dest/'train').mkdir(parents=True); (dest/'test').mkdir()
    pd.DataFrame({'Id': ['k1'], 'Target': '0'}).to_csv(dest/'train.csv', index=False)
    pd.DataFrame({'Id': ['t1'], 'Predicted': '0'}).to_csv(dest/'sample_submission.csv', index=False)
    for c in CHANNELS:
        write_png(np.zeros((size, size), np.uint8), img_file(dest/'train', 'k1', c))
        write_png(np.zeros((size, size), np.uint8), img_file(dest/'test', 't1', c))
    return dest

# --- download against a local server ---------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    files, hits = {}, {}
    def log_message(self, *a): pass
    def do_GET(self):
        Handler.hits[self.path] = Handler.hits.get(self.path, 0) + 1
        if 'flaky' in self.path and Handler.hits[self.path] == 1: self.send_response(503); self.end_headers(); return
        body = Handler.files.get(self.path)
        if body is None: self.send_response(404); self.end_headers(); self.wfile.write(b'not found'); return
        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
        self.wfile.write(body)

@pytest.fixture
def server():
    srv = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True); th.start()
    yield f'http://127.0.0.1:{srv.server_address[1]}'
    srv.shutdown(); srv.server_close()

def test_download(tmp_path, server):
    ids = ['1_A1_1', '2_flaky_1', '3_html_1', '4_gone_1']
    Handler.hits.clear()
    Handler.files = {v18_url(i, c, ''): jpeg_bytes(c) for i in ids[:2] for c in CHANNELS}
    Handler.files.update({v18_url('3_html_1', c, ''): b'<html>error page</html>' for c in CHANNELS})
    csv = tmp_path/'v18.csv'; pd.DataFrame({'Id': ids, 'Target': '0'}).to_csv(csv, index=False)
    out = tmp_path/'jpg'
    fails = download_v18(csv, out, n_workers=4, retries=2, timeout=5, base=server, show=False)
    got = sorted(f.name for f in out.iterdir())
    assert got == sorted(f'{i}_{c}.jpg' for i in ids[:2] for c in CHANNELS), got   # no error page, no temp file
    assert len(fails) == 8 and all(('3/html_1' in f or '4/gone_1' in f) for f in fails), fails
    assert all('not an image (an error page?)' in f for f in fails if '3/html_1' in f), fails
    assert all('HTTP Error 404' in f for f in fails if '4/gone_1' in f), fails
    assert all(Handler.hits[v18_url('4_gone_1', c, '')] == 1 for c in CHANNELS)      # a 404 is not retried
    assert all(Handler.hits[v18_url('2_flaky_1', c, '')] == 2 for c in CHANNELS)     # retried once
    assert (out/'1_A1_1_red.jpg').read_bytes() == jpeg_bytes('red')
    # a second run downloads nothing that is already there
    n = dict(Handler.hits)
    download_v18(csv, out, n_workers=4, retries=1, timeout=5, base=server, show=False)
    assert all(Handler.hits[k] == n[k] for k in n if '1_A1_1' in k or 'flaky' in k)
    # the downloaded files import
    df = import_v18(out, tmp_path/'ds', csv, path=kaggle_ds(tmp_path/'kaggle'), size=32, n_workers=1,
                    skip_bad=True, show=False)
    assert df.Id.tolist() == ['k1', '1_A1_1', '2_flaky_1']

# --- kill and resume ---------------------------------------------------------------------------------

def test_import_killed_then_resumed(tmp_path):
    src = tmp_path/'jpg'; src.mkdir()
    ids = [f'{100+i}_A1_{i}' for i in range(60)]
    for i in ids:
        for c in CHANNELS:
            rgb = np.zeros((1024, 1024, 3), np.uint8)
            for k in COMP[c]: rgb[..., k] = (np.arange(1024) % 200).astype(np.uint8)
            Image.fromarray(rgb).save(src/f'{i}_{c}.jpg', quality=80)
    csv = tmp_path/'v18.csv'; pd.DataFrame({'Id': ids, 'Target': '1'}).to_csv(csv, index=False)
    kag, dest = kaggle_ds(tmp_path/'kaggle', 512), tmp_path/'ds'
    code = (f'from hpa_protein.external import import_v18; '
            f'import_v18({str(src)!r}, {str(dest)!r}, {str(csv)!r}, path={str(kag)!r}, size=512, n_workers=2, show=False)')
    p = subprocess.Popen([sys.executable, '-c', code], start_new_session=True)
    t0 = time.time()
    while time.time() - t0 < 180 and len(list((dest/'train').glob('1*.png'))) < 20: time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL); p.wait()
    done = list((dest/'train').glob('1*.png'))
    assert 0 < len(done) < 4*len(ids), len(done)
    assert not (dest/'train.csv').exists()
    mt = {f: f.stat().st_mtime_ns for f in done}
    df = import_v18(src, dest, csv, path=kag, size=512, n_workers=2, show=False)
    assert len(df) == 61 and not list((dest/'train').glob('.tmp-*'))
    assert validate(dest, size=512, show=False) == []
    # Ids complete before the kill were not converted again
    complete = [i for i in ids if all(img_file(dest/'train', i, c) in mt for c in CHANNELS)]
    assert complete
    assert all(img_file(dest/'train', i, c).stat().st_mtime_ns == mt[img_file(dest/'train', i, c)]
               for i in complete for c in CHANNELS)

# --- imported HPAv18 copies of Kaggle images are found as duplicates -----------------------------------

FIX = Path(__file__).parent/'fixtures'/'hpa_real'/'train'

def test_import_then_dups_finds_v18_copies_of_real_images(tmp_path):
    from hpa_protein.data import read_channel
    from hpa_protein.dups import find_dups, dup_groups
    real = {f.stem.rsplit('_', 1)[1]: read_channel(f) for f in sorted(FIX.glob('*_green.png'))}
    assert 'green' in real
    kag = kaggle_ds(tmp_path/'kaggle', 512)
    write_png(real['green'], img_file(kag/'train', 'k1', 'green'))
    # the same field in HPAv18: 2048² colour JPEG, protein signal in G; plus an unrelated field
    src = tmp_path/'jpg'; src.mkdir()
    big = np.asarray(Image.fromarray(real['green']).resize((2048, 2048), Image.BICUBIC))
    for c in CHANNELS:
        for id, img in (('5_A1_1', big), ('6_B2_1', np.ascontiguousarray(big.T[::-1]))):
            rgb = np.zeros((2048, 2048, 3), np.uint8)
            for k in COMP[c]: rgb[..., k] = img
            Image.fromarray(rgb).save(src/f'{id}_{c}.jpg', quality=85)
    csv = tmp_path/'v18.csv'; pd.DataFrame({'Id': ['5_A1_1', '6_B2_1'], 'Target': ['0', '3']}).to_csv(csv, index=False)
    dest = tmp_path/'ds'
    import_v18(src, dest, csv, path=kag, n_workers=1, show=False)
    d = find_dups(dest, ('train', 'test'), 'green', n_workers=1, show=False)
    g = dup_groups(d)
    assert sorted(zip(g.Id, g.set)) == [('5_A1_1', 'hpav18'), ('k1', 'train')], d

def test_hash_files_parallel_matches_serial(tmp_path):
    from hpa_protein.dups import hash_files
    rng = np.random.default_rng(0)
    fns = [tmp_path/f'{i}_blue.png' for i in range(70)]
    for f in fns: write_png(rng.integers(0, 255, (64, 64), dtype=np.uint8), f)
    a, b = hash_files(fns, n_workers=1, show=False), hash_files(fns, n_workers=2, show=False)
    assert (a[0] == b[0]).all() and (a[1] == b[1]).all() and len(np.unique(a[0])) == 70
