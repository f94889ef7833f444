"""Draw the home page's figure, `nbs/images/demo_test_f1.png`: the test F1 of each class of the submission written
by the notebook series (`nbs/submission.csv`), scored against the synthetic set's test labels.

    python tools/execute.py --run slow nbs/00_eda.ipynb nbs/01_split.ipynb nbs/02_stats.ipynb nbs/03_model.ipynb \\
        nbs/04_thresholds.ipynb nbs/05_predict.ipynb     # the series, on the built-in synthetic set
    python tools/home_figure.py
"""
import sys
from pathlib import Path
from hpa_protein.data import hpa_path, read_labels, to_multihot, save_fig
from hpa_protein.predict import score_submission
from hpa_protein.model import plot_class_f1

NBS = Path(__file__).resolve().parent.parent/'nbs'

def main():
    sub, labels = NBS/'submission.csv', hpa_path()/'test_labels.csv'
    if not sub.is_file(): sys.exit(f'{sub}: not found: run the six notebooks first (see this script\'s docstring)')
    if not labels.is_file(): sys.exit(f'{labels}: not found: the figure is of the synthetic set, which has test labels')
    m, per = score_submission(sub, labels)
    fig = plot_class_f1(per.values, to_multihot(read_labels(labels).Target).sum(0),
                        'Test F1 per class (synthetic data): the demo model, 8× TTA, tuned thresholds')
    print(f'{save_fig(fig, NBS/"images"/"demo_test_f1.png")}: test macro F1 {m:.3f}')

if __name__ == '__main__': main()
